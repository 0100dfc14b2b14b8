/*
 * syscost: the price of one syscall under seccomp filters, against unconfined, in the same run.
 *
 * Built by benchmarks/_syscost.py (gcc -O2); x86_64 Linux only.
 *
 *   syscost [--calls N | --batch-us US] [--rounds R] [--cpu C] [--flags F] [--nnp] [--filter FILE]... CALL...
 *
 * Each FILE holds a classic BPF program (struct sock_filter records, host byte order), as
 * seccompose builds it for runc: libseccomp's exported program behind runc's ENOSYS stub.
 * The filters are loaded in the order given, each with seccomp(SECCOMP_SET_MODE_FILTER, F)
 * (runc 1.1 uses prctl(PR_SET_SECCOMP) when F is 0: the same kernel function), without
 * no_new_privs when running as root (Docker's default, noNewPrivileges false), with it under
 * --nnp or when not root (the kernel requires one or the other).
 *
 * Two children are forked and pinned to one CPU: U stays unconfined, C loads the filters.
 * The parent then runs R rounds; in each, for every CALL, it asks U and C in turn (the order
 * alternates between rounds) to make the call N times between two vDSO clock reads, and
 * records the nanoseconds per call of each. N is --calls, or what takes about --batch-us
 * microseconds unconfined (2,000 by default), measured per call before the rounds. Before the rounds, a third child per CALL loads
 * the filters, makes the call once and reports the result (or the signal that killed it), so
 * calls a filter kills are reported, not timed. Output: one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILTERS 8
#define MAX_CALLS 32
#define MAX_ROUNDS 100000
#define MAX_BATCH 10000000

struct call {
	const char *name;
	int int80;        /* 1: the i386 ABI through int 0x80 */
	long nr;
	long args[6];
	const char *what; /* what the call does unconfined, for the report */
};

/* Argument values chosen so that the kernel returns at once, without side effects, after the
 * filter has run: the same path the filter sees for a real call of that kind. */
static struct call CALLS[] = {
	{"getppid", 0, 110, {0}, "getppid()"},
	{"clone", 0, 56, {0x800 /* CLONE_SIGHAND without CLONE_VM */}, "clone(CLONE_SIGHAND) = EINVAL"},
	{"clone3", 0, 435, {0, 0}, "clone3(NULL, 0) = EINVAL"},
	{"personality", 0, 135, {0xffffffffL}, "personality(0xffffffff): query"},
	{"socket", 0, 41, {2 /* AF_INET */, 15 /* no such type */, 0}, "socket(AF_INET, 15, 0) = EINVAL"},
	{"swapoff", 0, 168, {0 /* set to "" in main */}, "swapoff(empty path) = ENOENT (as root)"},
	{"getppid@x86", 1, 64, {0}, "i386 getppid() through int 0x80"},
	{"getpid", 0, 39, {0}, "getpid()"},
	{"socketcall@x86", 1, 102, {1 /* SYS_SOCKET */, 0}, "i386 socketcall(SYS_SOCKET, NULL) = EFAULT"},
	{"personality@x86", 1, 136, {0xffffffffL}, "i386 personality(0xffffffff): query"},
};
#define NCALLS ((int)(sizeof(CALLS) / sizeof(CALLS[0])))

static inline long do_call(const struct call *c)
{
	long ret;
	if (c->int80) {
		register long ebx __asm__("rbx") = c->args[0];
		register long ecx __asm__("rcx") = c->args[1];
		register long edx __asm__("rdx") = c->args[2];
		register long esi __asm__("rsi") = c->args[3];
		register long edi __asm__("rdi") = c->args[4];
		__asm__ volatile("int $0x80"
				 : "=a"(ret)
				 : "0"(c->nr), "r"(ebx), "r"(ecx), "r"(edx), "r"(esi), "r"(edi)
				 : "r8", "r9", "r10", "r11", "memory", "cc");
		return (long)(int)ret;
	}
	register long a3 __asm__("r10") = c->args[3];
	register long a4 __asm__("r8") = c->args[4];
	register long a5 __asm__("r9") = c->args[5];
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(c->nr), "D"(c->args[0]), "S"(c->args[1]), "d"(c->args[2]), "r"(a3), "r"(a4), "r"(a5)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

static struct sock_fprog filters[MAX_FILTERS];
static int nfilters;
static unsigned int load_flags;
static int use_nnp;

static void die(const char *what)
{
	fprintf(stderr, "syscost: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void read_filter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		die(path);
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 || st.st_size > 65536 * 8) {
		fprintf(stderr, "syscost: %s: not a BPF program (%lld bytes)\n", path, (long long)st.st_size);
		exit(2);
	}
	struct sock_filter *insns = malloc(st.st_size);
	if (!insns || read(fd, insns, st.st_size) != st.st_size)
		die(path);
	close(fd);
	filters[nfilters].len = st.st_size / sizeof(struct sock_filter);
	filters[nfilters].filter = insns;
	nfilters++;
}

/* Load every filter; return 0 or an errno. Only syscalls run here (no allocation, no stdio). */
static int load_filters(void)
{
	if (use_nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return errno;
	for (int i = 0; i < nfilters; i++)
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, load_flags, &filters[i]) != 0)
			return errno;
	return 0;
}

static void pin(int cpu)
{
	cpu_set_t set;
	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall, so no filter */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void full_write(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			_exit(3);
		}
		p += w;
		n -= (size_t)w;
	}
}

static int full_read(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r == 0)
			return -1;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

struct worker {
	pid_t pid;
	int to;   /* parent writes a request here (index -1: exit) */
	int from; /* and reads the nanoseconds the batch took */
};

struct request {
	int32_t idx; /* which call (-1: exit) */
	int32_t n;   /* how many times */
};

/* A timing worker: optionally confined, then serves batches until told to stop. */
static struct worker start_worker(int confined, const int *calls, int cpu)
{
	int down[2], up[2];
	if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0)
		die("pipe2");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		pin(cpu);
		int32_t status = confined ? load_filters() : 0;
		full_write(up[1], &status, sizeof(status));
		if (status != 0)
			_exit(4);
		for (;;) {
			struct request rq;
			if (full_read(down[0], &rq, sizeof(rq)) != 0 || rq.idx < 0)
				_exit(0);
			const struct call *c = &CALLS[calls[rq.idx]];
			uint64_t t0 = now_ns();
			for (int32_t i = 0; i < rq.n; i++)
				do_call(c);
			uint64_t dt = now_ns() - t0;
			full_write(up[1], &dt, sizeof(dt));
		}
	}
	close(down[0]);
	close(up[1]);
	int32_t status;
	if (full_read(up[0], &status, sizeof(status)) != 0) {
		fprintf(stderr, "syscost: a worker died while loading the filters\n");
		exit(2);
	}
	if (status != 0) {
		errno = status;
		die("loading the filters");
	}
	struct worker w = {pid, down[1], up[0]};
	return w;
}

static double batch(struct worker *w, int idx, int32_t n)
{
	struct request rq = {idx, n};
	uint64_t dt;
	full_write(w->to, &rq, sizeof(rq));
	if (full_read(w->from, &dt, sizeof(dt)) != 0) {
		fprintf(stderr, "syscost: a worker died during a batch\n");
		exit(2);
	}
	return (double)dt / (double)n;
}

static void stop_worker(struct worker *w)
{
	struct request stop = {-1, 0};
	full_write(w->to, &stop, sizeof(stop));
	close(w->to);
	close(w->from);
	waitpid(w->pid, NULL, 0);
}

/* Make the call once in a fresh child, confined or not; describe the outcome as JSON. */
static void outcome(const struct call *c, int confined, char *out, size_t size)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		die("pipe2");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(fds[0]);
		int64_t ret = -100000; /* loading failed */
		if (!confined || load_filters() == 0)
			ret = do_call(c);
		full_write(fds[1], &ret, sizeof(ret));
		_exit(0);
	}
	close(fds[1]);
	int64_t ret;
	int got = full_read(fds[0], &ret, sizeof(ret));
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		snprintf(out, size, "{\"signal\": %d}", WTERMSIG(status));
	else if (got != 0)
		snprintf(out, size, "{\"lost\": true}");
	else if (ret == -100000)
		snprintf(out, size, "{\"loadFailed\": true}");
	else if (ret < 0 && ret > -4096)
		snprintf(out, size, "{\"errno\": %lld}", (long long)-ret);
	else
		snprintf(out, size, "{\"value\": %lld}", (long long)ret);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long fixed_n = 0, batch_us = 2000;
	int rounds = 41, cpu = -1;
	int calls[MAX_CALLS], ncalls = 0;
	use_nnp = geteuid() != 0;
	for (int k = 0; k < NCALLS; k++)
		if (!strcmp(CALLS[k].name, "swapoff"))
			CALLS[k].args[0] = (long)""; /* an empty path: refused by getname() at once, no fault */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			fixed_n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--batch-us") && i + 1 < argc)
			batch_us = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--flags") && i + 1 < argc)
			load_flags = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--nnp"))
			use_nnp = 1;
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			if (nfilters == MAX_FILTERS) {
				fprintf(stderr, "syscost: at most %d filters\n", MAX_FILTERS);
				return 2;
			}
			read_filter(argv[++i]);
		} else if (!strcmp(argv[i], "--list")) {
			for (int k = 0; k < NCALLS; k++)
				printf("%s\t%s\n", CALLS[k].name, CALLS[k].what);
			return 0;
		} else {
			int found = -1;
			for (int k = 0; k < NCALLS; k++)
				if (!strcmp(argv[i], CALLS[k].name))
					found = k;
			if (found < 0 || ncalls == MAX_CALLS) {
				fprintf(stderr, "syscost: unknown call or option '%s' (--list shows the calls)\n", argv[i]);
				return 2;
			}
			calls[ncalls++] = found;
		}
	}
	if (fixed_n < 0 || fixed_n > MAX_BATCH || batch_us < 1 || rounds < 1 || rounds > MAX_ROUNDS || ncalls == 0) {
		fprintf(stderr, "usage: syscost [--calls N | --batch-us US] [--rounds R] [--cpu C] [--flags F] [--nnp] "
				"[--filter FILE]... CALL...\n");
		return 2;
	}
	pin(cpu);
	signal(SIGPIPE, SIG_IGN);

	char before[MAX_CALLS][96], after[MAX_CALLS][96];
	int timed[MAX_CALLS];
	for (int k = 0; k < ncalls; k++) {
		outcome(&CALLS[calls[k]], 0, before[k], sizeof(before[k]));
		outcome(&CALLS[calls[k]], 1, after[k], sizeof(after[k]));
		timed[k] = strstr(after[k], "signal") == NULL && strstr(after[k], "lost") == NULL &&
			   strstr(before[k], "signal") == NULL;
	}

	struct worker u = start_worker(0, calls, cpu);
	struct worker c = start_worker(nfilters > 0, calls, cpu);
	int32_t n[MAX_CALLS];
	for (int k = 0; k < ncalls; k++) {
		if (!timed[k])
			continue;
		/* Calibrate: about batch_us per batch (unconfined), unless --calls fixes it. */
		batch(&u, k, 200);
		double per = batch(&u, k, 1000);
		long want = fixed_n ? fixed_n : (long)(batch_us * 1000.0 / (per > 1 ? per : 1));
		n[k] = (int32_t)(want < 100 ? 100 : want > MAX_BATCH ? MAX_BATCH : want);
		batch(&c, k, n[k]); /* warm both workers' caches and branch predictors */
		batch(&u, k, n[k]);
	}
	double *tu = calloc((size_t)rounds * ncalls, sizeof(double));
	double *tc = calloc((size_t)rounds * ncalls, sizeof(double));
	double *sorted = calloc((size_t)rounds, sizeof(double));
	if (!tu || !tc || !sorted)
		die("calloc");
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < ncalls; k++) {
			if (!timed[k])
				continue;
			if (r % 2 == 0) {
				tu[r * ncalls + k] = batch(&u, k, n[k]);
				tc[r * ncalls + k] = batch(&c, k, n[k]);
			} else {
				tc[r * ncalls + k] = batch(&c, k, n[k]);
				tu[r * ncalls + k] = batch(&u, k, n[k]);
			}
		}
	stop_worker(&u);
	stop_worker(&c);

	printf("{\"rounds\": %d, \"cpu\": %d, \"filters\": [", rounds, cpu);
	for (int i = 0; i < nfilters; i++)
		printf("%s%u", i ? ", " : "", filters[i].len);
	printf("], \"flags\": %u, \"noNewPrivs\": %s, \"results\": {", load_flags, use_nnp ? "true" : "false");
	for (int k = 0; k < ncalls; k++) {
		const struct call *cl = &CALLS[calls[k]];
		printf("%s\n  \"%s\": {\"what\": \"%s\", \"unconfined\": %s, \"confined\": %s, \"timed\": %s",
		       k ? "," : "", cl->name, cl->what, before[k], after[k], timed[k] ? "true" : "false");
		if (timed[k]) {
			const char *keys[2] = {"unconfinedNs", "confinedNs"};
			double *src[2] = {tu, tc};
			printf(", \"callsPerBatch\": %d", n[k]);
			for (int s = 0; s < 2; s++) {
				printf(", \"%s\": [", keys[s]);
				for (int r = 0; r < rounds; r++)
					printf("%s%.3f", r ? ", " : "", src[s][r * ncalls + k]);
				printf("]");
			}
			for (int r = 0; r < rounds; r++)
				sorted[r] = tc[r * ncalls + k] - tu[r * ncalls + k];
			qsort(sorted, (size_t)rounds, sizeof(double), cmp_double);
			printf(", \"medianAddedNs\": %.3f", sorted[rounds / 2]);
		}
		printf("}");
	}
	printf("\n}}\n");
	return 0;
}
