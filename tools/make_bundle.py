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

__all__ = ["APPLETS", "EXIT42_STATUS", "crun_works", "exit42_elf", "make_bundle", "run_container"]

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


def run_container(
    runtime: str,
    bundle: Path,
    container_id: str,
    *,
    timeout: float = 30.0,
    strace: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the bundle to completion with ``runtime`` (runc or crun); always clean up the container."""
    if runtime == "runc":
        cmd = ["runc", "run", "--bundle", str(bundle), container_id]
    elif runtime == "crun":
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", _CRUN_SCRIPT, str(bundle), container_id]
    else:
        msg = f"unknown runtime {runtime!r}; use runc or crun"
        raise ValueError(msg)
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
