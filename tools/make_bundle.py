"""Make an OCI bundle (busybox rootfs + `runc spec` config.json) and run it with runc or crun.

Used by tools/measure_runtime_base.py and tests/integration/test_runtimes.py.

    python tools/make_bundle.py DIR [--profile linux-seccomp.json] [--nnp|--no-nnp] -- ARGS...

The rootfs holds Debian's busybox-static with a few applet links, and `/exit42`: a 129-byte
static x86_64 ELF that only calls exit_group(42), so a container running it needs no
syscall of its own besides exit_group: "the runtime started it" is "exit status 42".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "APPLETS",
    "EXIT42_STATUS",
    "container_command",
    "crun_works",
    "exit42_elf",
    "make_bundle",
    "mkdir32_elf",
    "refuse_loop_elf",
    "run_container",
]

BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "true", "false", "mkdir", "cat", "echo", "ls", "sleep", "id", "touch", "rm", "chmod", "nc")
EXIT42_STATUS = 42


def exit42_elf() -> bytes:
    """Return a minimal static x86_64 ELF executable that calls exit_group(42) (ud2 if that fails)."""
    code = bytes.fromhex("bf2a000000" "b8e7000000" "0f05" "0f0b")  # mov edi,42; mov eax,231; syscall; ud2
    base, ehsize, phsize = 0x400000, 64, 56
    entry = base + ehsize + phsize
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0)
    size = ehsize + phsize + len(code)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)  # PT_LOAD, R+X
    return header + phdr + code


def _elf64(blob: bytes) -> bytes:
    """A static x86_64 ELF whose one R+X segment is ``blob``, entered at its first byte."""
    base, ehsize, phsize = 0x400000, 64, 56
    entry = base + ehsize + phsize
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0)
    size = ehsize + phsize + len(blob)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return header + phdr + blob


def mkdir32_elf(path: str = "/tmp/x86dir") -> bytes:
    """Return a static 32-bit (i386) ELF that calls mkdir(path, 0755) by ``int 0x80`` and exits with -ret & 0xff.

    Exit status 0: the directory was made; 1: EPERM; 38: ENOSYS. The kernel sees
    ``AUDIT_ARCH_I386`` and i386 number 39, as it would for any 32-bit program.
    """
    base, ehsize, phsize = 0x08048000, 52, 32
    code = (
        bytes.fromhex("b827000000")  # mov eax, 39 (i386 mkdir)
        + b"\xbb" + b"\0\0\0\0"  # mov ebx, path (patched below)
        + bytes.fromhex("b9ed010000" "cd80" "f7d8" "89c3" "b801000000" "cd80")  # mov ecx,0755; int 0x80; neg eax;
    )  # mov ebx,eax; mov eax,1 (exit); int 0x80
    entry = base + ehsize + phsize
    code = code[:6] + struct.pack("<I", entry + len(code)) + code[10:]
    blob = code + path.encode() + b"\0"
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0)
    size = ehsize + phsize + len(blob)
    phdr = struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
    return header + phdr + blob


def refuse_loop_elf(nr: int, count: int, path: str = "/tmp/loop") -> bytes:
    """Return a static x86_64 ELF that calls ``nr``(path, 0755) ``count`` times, then writes how often it failed.

    The output is the number of calls that returned -1 (as the raw syscall sees it: -EPERM
    is -1 only for EPERM), 8 bytes little-endian on stdout; then exit_group(0). Listing:
    ``movabs r12,count; xor r13d,r13d; loop: mov eax,nr; lea rdi,[rip+path]; mov esi,0755;
    syscall; cmp rax,-1; jne +3; inc r13; dec r12; jnz loop; push r13; write(1,rsp,8); exit_group(0)``.
    """
    code = bytearray(b"\x49\xbc" + struct.pack("<Q", count) + b"\x45\x31\xed")
    loop = len(code)
    code += b"\xb8" + struct.pack("<I", nr)
    lea_end = len(code) + 7
    code += b"\x48\x8d\x3d\0\0\0\0" + bytes.fromhex("beed010000" "0f05" "4883f8ff" "7503" "49ffc5" "49ffcc")
    code += b"\x75" + struct.pack("<b", loop - (len(code) + 2))
    code += bytes.fromhex("4155" "b801000000" "bf01000000" "4889e6" "ba08000000" "0f05" "b8e7000000" "31ff" "0f05")
    code[lea_end - 4 : lea_end] = struct.pack("<i", len(code) - lea_end)
    return _elf64(bytes(code) + path.encode() + b"\0")


def make_bundle(
    dest: Path,
    *,
    args: list[str],
    seccomp: dict[str, Any] | None = None,
    no_new_privileges: bool = True,
    writable: bool = False,
) -> Path:
    """Create (or refresh) an OCI bundle in ``dest`` and return its path."""
    rootfs = dest / "rootfs"
    for sub in ("bin", "proc", "dev", "sys", "tmp", "etc"):
        (rootfs / sub).mkdir(parents=True, exist_ok=True)
    if not (rootfs / "bin" / "busybox").exists():
        shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for applet in APPLETS:
        link = rootfs / "bin" / applet
        if not link.is_symlink():
            link.symlink_to("busybox")
    elf = rootfs / "exit42"
    elf.write_bytes(exit42_elf())
    elf.chmod(0o755)
    (rootfs / "tmp").chmod(0o1777)
    config_path = dest / "config.json"
    if config_path.exists():
        config_path.unlink()
    # runc's default spec; crun writes the same shape where runc is not installed (crun's bundle tests)
    spec = ["runc", "spec", "--bundle", str(dest)] if shutil.which("runc") else ["crun", "spec"]
    subprocess.run(spec, check=True, capture_output=True, cwd=dest)
    config = json.loads(config_path.read_text())
    config["process"]["args"] = list(args)
    config["process"]["terminal"] = False
    config["process"]["noNewPrivileges"] = no_new_privileges
    config["root"]["readonly"] = not writable
    if seccomp is not None:
        config["linux"]["seccomp"] = seccomp
    else:
        config["linux"].pop("seccomp", None)
    config_path.write_text(json.dumps(config, indent=2))
    return dest


_CRUN_SCRIPT = (
    # crun 1.8 refuses the hybrid cgroup layout: hide the v2 mount in a private mount namespace.
    'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=disabled run --bundle "$0" "$1"'
)


def container_command(runtime: str, bundle: Path, container_id: str) -> list[str]:
    """Return the command that runs the bundle in the foreground with ``runtime`` (runc or crun)."""
    if runtime == "runc":
        return ["runc", "run", "--bundle", str(bundle), container_id]
    if runtime == "crun":
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", _CRUN_SCRIPT, str(bundle), container_id]
    msg = f"unknown runtime {runtime!r}; use runc or crun"
    raise ValueError(msg)


def run_container(
    runtime: str,
    bundle: Path,
    container_id: str,
    *,
    timeout: float = 30.0,
    strace: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the bundle to completion with ``runtime`` (runc or crun); always clean up the container."""
    cmd = container_command(runtime, bundle, container_id)
    if strace is not None:
        cmd = ["strace", "-f", "-qq", "-o", str(strace), *cmd]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, -9, str(exc.stdout or ""), f"timeout after {timeout}s")
    finally:
        subprocess.run([runtime, "delete", "-f", container_id], capture_output=True, check=False)


def crun_works() -> str | None:
    """Return None when this machine can run crun containers as set up here, else the reason."""
    if os.geteuid() != 0:
        return "crun and runc need root here"
    if shutil.which("crun") is None or shutil.which("unshare") is None:
        return "crun or unshare is not installed (apt-get install crun util-linux)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--profile", type=Path, help="OCI linux.seccomp JSON to put in config.json")
    parser.add_argument("--no-nnp", action="store_true", help="process.noNewPrivileges false")
    parser.add_argument("args", nargs="*", default=["/exit42"])
    ns = parser.parse_args(argv)
    seccomp = json.loads(ns.profile.read_text()) if ns.profile else None
    make_bundle(ns.dest, args=ns.args, seccomp=seccomp, no_new_privileges=not ns.no_nnp)
    print(ns.dest / "config.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
