/*
 * abi_call: make one system call on a chosen ABI of an x86_64 kernel and print what it returned.
 *
 *   abi_call 64|32|x32 NUMBER [ARG...]
 *
 * 64 is the x86_64 ABI (syscall), 32 the i386 one (int 0x80, which a 64-bit program may issue
 * itself), x32 the x32 one (syscall, bit 30 set in the number). Each ARG is a number (decimal,
 * or 0x hex, negative allowed) or a pointer into the program's own .bss, which a static, non-PIE
 * build keeps below 4 GiB, where an i386 call can reach it:
 *   @s:TEXT        a NUL-terminated copy of TEXT
 *   @w:V,V,...     32-bit words (socketcall's argument array on i386)
 *   @q:V,V,...     64-bit words
 *   @buf           4 KiB of zeros
 * Prints the raw return value: the result, or -errno.
 *
 * Built by the tests with: gcc -static -no-pie -O1 -mno-red-zone -o abi_call abi_call.c
 * (-mno-red-zone: the i386 call saves rbp on the stack around int 0x80).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char slots[6][4096] __attribute__((aligned(16)));

static long call64(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory", "cc");
    return ret;
}

static long call32(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    long ret;
    register long r12 __asm__("r12") = a6;
    __asm__ volatile("push %%rbp\n\t"
                     "mov %%r12, %%rbp\n\t"
                     "int $0x80\n\t"
                     "pop %%rbp"
                     : "=a"(ret)
                     : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5), "r"(r12)
                     : "r8", "r9", "r10", "r11", "memory", "cc");
    return (long)(int)ret; /* eax: a 32-bit result */
}

static long argument(const char *text, int slot) {
    char *at = slots[slot];
    if (strncmp(text, "@s:", 3) == 0) {
        strncpy(at, text + 3, sizeof slots[slot] - 1);
    } else if (strncmp(text, "@w:", 3) == 0 || strncmp(text, "@q:", 3) == 0) {
        int wide = text[1] == 'q';
        char *copy = strdup(text + 3), *save = NULL;
        int i = 0;
        for (char *v = strtok_r(copy, ",", &save); v; v = strtok_r(NULL, ",", &save), i++) {
            long long value = strtoll(v, NULL, 0);
            if (wide)
                ((unsigned long long *)at)[i] = (unsigned long long)value;
            else
                ((unsigned int *)at)[i] = (unsigned int)value;
        }
        free(copy);
    } else if (strcmp(text, "@buf") != 0) {
        return (long)strtoll(text, NULL, 0);
    }
    return (long)at;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: abi_call 64|32|x32 NUMBER [ARG...]\n");
        return 2;
    }
    long nr = strtol(argv[2], NULL, 0), a[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 6 && i + 3 < argc; i++)
        a[i] = argument(argv[i + 3], i);
    long ret;
    if (strcmp(argv[1], "32") == 0)
        ret = call32(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    else if (strcmp(argv[1], "x32") == 0)
        ret = call64(nr | 0x40000000L, a[0], a[1], a[2], a[3], a[4], a[5]);
    else
        ret = call64(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    printf("%ld\n", ret);
    return 0;
}
