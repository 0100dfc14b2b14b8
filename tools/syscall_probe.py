"""A static test program that makes one raw syscall: ``probe NR [ARG0 ... ARG5]`` exits with its errno.

    python tools/syscall_probe.py DIR            # writes DIR/probe (x86_64 `syscall`) and DIR/probe32 (`int 0x80`)

Arguments are decimal. The program makes the call with those arguments (the rest 0), no libc,
and exits with the errno (0 when the call succeeded), so "EPERM" can only come from the kernel,
and under a seccomp filter from the filter. ``probe 56 268435473`` is ``clone(CLONE_NEWUSER |
SIGCHLD)``: fork-like, so the child also returns (0) and exits 0. ``probe32`` makes the i386
call through ``int 0x80`` (numbers from the x86 table). Needs binutils (as, ld); x86_64 only.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

_PARSE = """
        .globl _start
        .text
_start:
        mov (%rsp), %r15            # argc
        lea 8(%rsp), %r14           # argv
        sub $64, %rsp               # eight numbers, zeroed
        mov %rsp, %r13
        xor %eax, %eax
        mov $8, %ecx
        mov %r13, %rdi
        rep stosq
        mov $1, %r12
1:      cmp %r15, %r12              # for i in 1 .. min(argc, 8) - 1: nums[i-1] = int(argv[i])
        jae 4f
        cmp $8, %r12
        jae 4f
        mov (%r14,%r12,8), %rsi
        xor %eax, %eax
2:      movzbq (%rsi), %rcx
        test %rcx, %rcx
        jz 3f
        sub $48, %rcx
        imul $10, %rax
        add %rcx, %rax
        inc %rsi
        jmp 2b
3:      mov %rax, -8(%r13,%r12,8)
        inc %r12
        jmp 1b
4:
"""

_CALL64 = """
        mov 0(%r13), %rax
        mov 8(%r13), %rdi
        mov 16(%r13), %rsi
        mov 24(%r13), %rdx
        mov 32(%r13), %r10
        mov 40(%r13), %r8
        mov 48(%r13), %r9
        syscall
        cmp $-4095, %rax            # -4095 .. -1: an errno
"""

_CALL32 = """
        mov 0(%r13), %eax
        mov 8(%r13), %ebx
        mov 16(%r13), %ecx
        mov 24(%r13), %edx
        mov 32(%r13), %esi
        mov 40(%r13), %edi
        mov 48(%r13), %ebp
        int $0x80
        cmp $-4095, %eax
"""

_EXIT = """
        mov $0, %edi
        jb 5f
        mov %eax, %edi
        neg %edi
5:      mov $231, %eax              # exit_group(errno)
        syscall
        hlt
"""


def build(dest: Path) -> tuple[Path, Path]:
    """Assemble ``probe`` (x86_64) and ``probe32`` (i386 calls via ``int 0x80``) into ``dest``; return both."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name, call in (("probe", _CALL64), ("probe32", _CALL32)):
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / f"{name}.s"
            source.write_text(_PARSE + call + _EXIT, encoding="ascii")
            subprocess.run(["as", "-o", f"{tmp}/{name}.o", str(source)], check=True, capture_output=True)
            link = ["ld", "-static", "-o", str(dest / name), f"{tmp}/{name}.o"]
            subprocess.run(link, check=True, capture_output=True)
        out.append(dest / name)
    return out[0], out[1]


CLONE_NEWUSER = 0x10000000
SIGCHLD = 17


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for path in build(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
