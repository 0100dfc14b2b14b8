"""Generate a realistic ``strace -f -tt`` log of a given size, for the ``learn`` benchmark.

The log looks like a multi-threaded server under load traced with ``strace -f -tt -o``:
``PID HH:MM:SS.uuuuuu call(args) = ret`` lines with realistic argument strings,
``<unfinished ...>`` / ``<... resumed>`` pairs between threads, signals, thread exits
and pid reuse. The mix of calls is weighted like a real trace (futex, epoll_wait, read,
write, sendto, recvfrom dominate; execve, mmap, openat appear at start-up).

The output is deterministic for a given size and seed, and cached: a file whose
first line carries the same generator version and size is reused.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Final

__all__ = ["GENERATOR_VERSION", "ensure_log"]

GENERATOR_VERSION: Final = 3

# (weight, call text with its result). Weights follow the rough shape of a traced web server.
_CALLS: Final = (
    (30, "futex(0x7f3a8c0016e8, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY) = 0"),
    (20, "futex(0x7f3a8c0016e8, FUTEX_WAKE_PRIVATE, 1) = 1"),
    (18, "epoll_wait(5, [{events=EPOLLIN, data={u32=12, u64=12}}], 512, 1000) = 1"),
    (16, 'read(12, "GET /index.html HTTP/1.1\\r\\nHost: localhost\\r\\nUser-Agent: wrk\\r\\n\\r\\n", 65536) = 64'),
    (14, 'write(12, "HTTP/1.1 200 OK\\r\\nServer: nginx\\r\\nContent-Length: 612\\r\\n\\r\\n<!DOCTYPE"..., 850) = 850'),
    (10, 'recvfrom(14, "\\27\\3\\3\\0\\23\\344\\21\\v\\204"..., 16709, 0, NULL, NULL) = 40'),
    (10, 'sendto(14, "\\27\\3\\3\\0\\23\\2\\206\\357"..., 40, MSG_NOSIGNAL, NULL, 0) = 40'),
    (8, "epoll_ctl(5, EPOLL_CTL_MOD, 12, {events=EPOLLIN|EPOLLRDHUP|EPOLLET, data={u32=12, u64=12}}) = 0"),
    (
        8,
        (
            'accept4(6, {sa_family=AF_INET, sin_port=htons(51234), sin_addr=inet_addr("127.0.0.1")}, [112 => 16], '
            "SOCK_CLOEXEC|SOCK_NONBLOCK) = 12"
        ),
    ),
    (8, "close(12) = 0"),
    (6, "clock_gettime(CLOCK_MONOTONIC, {tv_sec=8123, tv_nsec=448112301}) = 0"),
    (6, 'openat(AT_FDCWD, "/usr/share/nginx/html/index.html", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 13'),
    (6, 'newfstatat(13, "", {st_mode=S_IFREG|0644, st_size=612, ...}, AT_EMPTY_PATH) = 0'),
    (5, "sendfile(12, 13, [0] => [612], 612) = 612"),
    (5, "setsockopt(12, SOL_TCP, TCP_NODELAY, [1], 4) = 0"),
    (
        4,
        (
            'writev(3, [{iov_base="127.0.0.1 - - [29/Nov/2026:19:01:02 +0000] \\"GET / HTTP/1.1\\" 200 612\\n", '
            "iov_len=71}], 1) = 71"
        ),
    ),
    (4, "mmap(NULL, 262144, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f3a8b5c0000"),
    (3, "munmap(0x7f3a8b5c0000, 262144) = 0"),
    (3, "brk(0x55af9d46c000) = 0x55af9d46c000"),
    (3, "getpid() = 4242"),
    (3, "rt_sigprocmask(SIG_BLOCK, [HUP INT QUIT USR1 USR2 ALRM TERM CHLD], [], 8) = 0"),
    (2, "madvise(0x7f3a8b5c0000, 258048, MADV_DONTNEED) = 0"),
    (2, "ioctl(12, FIONBIO, [1]) = 0"),
    (2, "fcntl(13, F_GETFL) = 0x8800 (flags O_RDONLY|O_NONBLOCK|O_LARGEFILE)"),
    (2, 'getsockname(12, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, [16]) = 0'),
    (2, "lseek(13, 0, SEEK_CUR) = 0"),
    (2, 'pread64(13, "<!DOCTYPE html>\\n<html>\\n<head>\\n<title>Welcome"..., 612, 0) = 612'),
    (1, 'access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)'),
    (1, "shutdown(12, SHUT_WR) = 0"),
    (1, 'getrandom("\\x4f\\x12\\x9a\\x01\\x88\\xde\\xad\\x77", 8, GRND_NONBLOCK) = 8'),
    (1, "sched_yield() = 0"),
    (
        1,
        (
            "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
            "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f3a8a9fe910, parent_tid=0x7f3a8a9fe910, "
            "exit_signal=0, stack=0x7f3a8a1fe000, stack_size=0x7fff00, tls=0x7f3a8a9fe640} => "
            "{parent_tid=[4301]}, 88) = 4301"
        ),
    ),
    (1, 'prctl(PR_SET_NAME, "worker") = 0'),
    (
        1,
        (
            'statx(AT_FDCWD, "/etc/nginx/mime.types", AT_STATX_SYNC_AS_STAT, STATX_ALL, '
            "{stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=5349, ...}) = 0"
        ),
    ),
    (1, "getdents64(13, 0x55af9d44e0a0 /* 12 entries */, 32768) = 384"),
    (1, "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 15"),
    (
        1,
        (
            'connect(15, {sa_family=AF_INET, sin_port=htons(6379), sin_addr=inet_addr("10.0.0.7")}, 16) = '
            "-1 EINPROGRESS (Operation now in progress)"
        ),
    ),
    (1, "poll([{fd=15, events=POLLOUT}], 1, 3000) = 1 ([{fd=15, revents=POLLOUT}])"),
    (1, "nanosleep({tv_sec=0, tv_nsec=1000000}, NULL) = 0"),
    (1, "syscall_0x1c3(0xffffffff, 0, 0, 0) = -1 ENOSYS (Function not implemented)"),
)

# Calls that block: traced with -f they are split by other threads' lines.
_BLOCKING: Final = (
    ("futex", "0x7f3a8c0016e8, FUTEX_WAIT_PRIVATE, 2, NULL", ") = 0"),
    ("epoll_wait", "5, ", "[{events=EPOLLIN, data={u32=14, u64=14}}], 512, 1000) = 1"),
    ("read", "14, ", '"\\27\\3\\3\\0\\23"..., 16709) = 40'),
)

_STARTUP: Final = (
    'execve("/usr/sbin/nginx", ["nginx", "-g", "daemon off;"], 0x7ffcbd633410 /* 12 vars */) = 0',
    "brk(NULL) = 0x55af9d44b000",
    "arch_prctl(0x3001 /* ARCH_??? */, 0x7ffe2b6c7a30) = -1 EINVAL (Invalid argument)",
    'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
    'read(3, "\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20t\\2\\0"..., 832) = 832',
    "mmap(NULL, 1974096, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7fda455a0000",
    "mprotect(0x7fda4571c000, 16384, PROT_READ) = 0",
    "set_tid_address(0x7fda4555fa10) = 12931",
    "set_robust_list(0x7fda4555fa20, 24) = 0",
    "rseq(0x7fda45560060, 0x20, 0, 0x53053053) = 0",
    "prlimit64(0, RLIMIT_NOFILE, NULL, {rlim_cur=1024*1024, rlim_max=1024*1024}) = 0",
    (
        "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f3a8b03c050}, "
        "NULL, 8) = 0"
    ),
    "socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_IP) = 6",
    'bind(6, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
    "listen(6, 511) = 0",
    "epoll_create1(EPOLL_CLOEXEC) = 5",
)


def _pick_table(rng: random.Random) -> list[str]:
    """A table of 4096 calls drawn by weight: lines are picked from it by a cheap index."""
    weights = [w for w, _ in _CALLS]
    return rng.choices([c for _, c in _CALLS], weights=weights, k=4096)


def _write(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    table = _pick_table(rng)
    header = f"{4242} 00:00:00.000000 getppid() = 1 /* seccompose bench log v{GENERATOR_VERSION} size={size} */\n"
    chunk: list[str] = [header]
    written = len(header)
    micros = 19 * 3600 * 10**6
    pids = [4242 + i for i in range(8)]
    next_pid = 4300
    pending: dict[int, tuple[str, str]] = {}
    with path.open("w", encoding="ascii", newline="\n") as out:
        for i, call in enumerate(_STARTUP):
            chunk.append(f"4242  18:59:59.{i * 1000 + rng.randrange(1000):06d} {call}\n")
        while written < size:
            for _ in range(20000):
                micros += rng.randrange(1, 400)
                s, us = divmod(micros, 10**6)
                m, s = divmod(s, 60)
                h, m = divmod(m, 60)
                stamp = f"{h % 24:02d}:{m:02d}:{s:02d}.{us:06d}"
                pid = pids[rng.randrange(len(pids))]
                roll = rng.randrange(1000)
                if pid in pending:
                    name, rest = pending.pop(pid)
                    line = f"{pid}  {stamp} <... {name} resumed>{rest}\n"
                elif roll < 40:
                    name, args, rest = _BLOCKING[roll % len(_BLOCKING)]
                    pending[pid] = (name, rest)
                    line = f"{pid}  {stamp} {name}({args} <unfinished ...>\n"
                elif roll < 42:
                    info = f"si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={next_pid}"
                    line = f"{pid}  {stamp} --- SIGCHLD {{{info}}} ---\n"
                elif roll == 42 and len(pids) > 4:
                    # A worker thread exits and a new one takes its place.
                    pids.remove(pid)
                    line = f"{pid}  {stamp} exit(0) = ?\n{pid}  {stamp} +++ exited with 0 +++\n"
                    pids.append(next_pid)
                    next_pid += 1
                else:
                    line = f"{pid}  {stamp} {table[rng.randrange(4096)]}\n"
                chunk.append(line)
            text = "".join(chunk)
            out.write(text)
            written += len(text)
            chunk = []


def ensure_log(path: Path, size: int, *, seed: int = 8) -> Path:
    """Return ``path`` holding a generated log of at least ``size`` bytes, generating it if needed."""
    marker = f"seccompose bench log v{GENERATOR_VERSION} size={size} "
    if path.is_file():
        with path.open("rb") as f:
            if marker.encode() in f.readline():
                return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    _write(tmp, size, seed)
    tmp.replace(path)
    return path
