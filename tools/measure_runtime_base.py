"""Measure the runtime base sets: the syscalls runc and crun make between loading the filter and exec.

    python tools/measure_runtime_base.py                  # measure every scenario, print the documents
    python tools/measure_runtime_base.py --write          # ... and rewrite data/runtime/<runtime>.json
    python tools/measure_runtime_base.py --check          # measure; exit 1 if a set differs from the data
    python tools/measure_runtime_base.py --quick          # verify the shipped data only (CI): each set
                                                          # starts every scenario; each member is needed
    python tools/measure_runtime_base.py --engine docker --quick   # one engine (runc, crun, docker, podman)

The runtimes are measured as the engines invoke them, and directly:

- ``docker``: ``docker run --security-opt seccomp=PROFILE IMAGE /exit42`` on a private dockerd
  (Debian's docker.io: dockerd -> containerd -> containerd-shim-runc-v2 -> runc);
- ``podman``: ``podman run --security-opt seccomp=PROFILE IMAGE /exit42`` (podman -> conmon -> crun);
- ``runc``, ``crun``: an OCI bundle set up as docker run sets one up (``tools/engines.py``).

each with ``noNewPrivileges`` false (the engines' default) and true (``--security-opt
no-new-privileges``), as root and as a non-root user (``--user 1000:1000``), with the engine's
default capabilities, none (``--cap-drop ALL``), what a server needs (``--cap-drop ALL --cap-add
SETUID,SETGID,CHOWN``) and more (``--cap-add SYS_ADMIN,NET_ADMIN``). The image holds busybox and
``/exit42``: a 129-byte static program that only calls exit_group(42), so "the runtime started it"
is "exit status 42" (needs root, runc, crun, docker.io, podman, strace, busybox-static).

Method, per scenario:

1. Discover: the runtime runs under ``strace -f`` (for the engines, a wrapper the engine takes as
   its runtime: ``dockerd``'s ``runtimes``, ``podman --runtime``; ``strace -D`` so the engine
   still sees the runtime's own exit), the container under an allow-all profile; take every
   syscall the container process (all its threads) *enters* after the filter load
   (prctl(PR_SET_SECCOMP) / seccomp(SECCOMP_SET_MODE_FILTER)) up to its execve of /exit42.
2. Check: a default-deny profile (SCMP_ACT_ERRNO/EPERM) allowing the candidates plus exit_group
   (the workload's only call) must start the container: exit status 42, every time.
3. Minimise: drop candidates one at a time (sorted); a name stays dropped when the container
   still starts without it (``--repeat`` runs each). For Go runtimes (runc), rt_sigreturn and
   futex are always kept: whether the Go scheduler or a preemption signal needs them inside the
   window is timing, which no number of runs refutes.

A runtime's set for one ``noNewPrivileges`` mode is the union of its scenarios' sets (runc:
runc and docker; crun: crun and podman); each scenario's set is kept in the data with the
versions it was measured on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import DOCKER_DEFAULT_CAPS, PrivateDocker, PrivatePodman, bundle, bundle_cmd, delete, missing
from make_bundle import APPLETS, BUSYBOX, EXIT42_STATUS, exit42_elf

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "runtime"
RUNTIMES = ("runc", "crun")
ENGINES = ("runc", "crun", "docker", "podman")
RUNTIME_OF = {"runc": "runc", "docker": "runc", "crun": "crun", "podman": "crun"}
USERS = {"root": None, "1000:1000": (1000, 1000)}
CAPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (--cap-drop, --cap-add) as docker run and podman run spell them
    "default": ((), ()),
    "none": (("ALL",), ()),
    "needed": (("ALL",), ("SETUID", "SETGID", "CHOWN")),
    "added": ((), ("SYS_ADMIN", "NET_ADMIN")),
}
PODMAN_DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",
    "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
)  # fmt: skip
"""Podman 4.3's default capabilities (containers.conf default_capabilities)."""
IMAGE = "seccompose-exit42:measure"
# Calls a Go runtime (runc) makes whenever its scheduler or a signal says so: whether one falls
# between the filter load and exec is a matter of timing, so removal runs cannot refute them,
# and denying them is fatal when it happens (a failed futex wake-up aborts a Go program; a
# failed rt_sigreturn after the SIGURG preemption signal crashes it). Kept for Go runtimes.
GO_RUNTIMES = ("runc",)
SIGNAL_DEPENDENT = {
    "rt_sigreturn": "returns from a signal handler: needed whenever a signal (Go's SIGURG preemption) "
    "arrives between the filter load and exec; timing-dependent, so removal runs cannot refute it",
    "futex": "Go runtime thread wake-ups: a failed futex wake aborts the runtime; whether one falls "
    "between the filter load and exec depends on scheduling, so removal runs cannot refute it",
}
WORKLOAD = ("exit_group",)
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]

_LINE = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()")
_RESULT = re.compile(r"= (\d+)(?: <[^>]*>)?$")
_LOAD = re.compile(
    r"prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, \{len=|seccomp\(SECCOMP_SET_MODE_FILTER, [^,]*, \{len="
)


@dataclass(frozen=True)
class Scenario:
    """One way a container is started: the engine (or runtime alone), noNewPrivileges, user, capabilities."""

    engine: str
    nnp: bool
    user: str
    caps: str

    @property
    def runtime(self) -> str:
        return RUNTIME_OF[self.engine]

    def __str__(self) -> str:
        return f"{self.engine} nnp={str(self.nnp).lower()} user={self.user} caps={self.caps}"

    def flags(self) -> list[str]:
        """The docker run / podman run flags of this scenario (the seccomp option aside)."""
        drop, add = CAPS[self.caps]
        out = [f"--cap-drop={c}" for c in drop] + [f"--cap-add={c}" for c in add]
        if self.user != "root":
            out.append(f"--user={self.user}")
        if self.nnp:
            out += ["--security-opt", "no-new-privileges"]
        return out

    def capabilities(self) -> tuple[str, ...]:
        """The capability set a bundle of this scenario gets (what the engine computes from the flags)."""
        drop, add = CAPS[self.caps]
        base = PODMAN_DEFAULT_CAPS if self.engine in ("crun", "podman") else DOCKER_DEFAULT_CAPS
        caps = () if "ALL" in drop else base
        return tuple(sorted({*caps, *(f"CAP_{c}" for c in add)}))

    def to_json(self) -> dict[str, Any]:
        return {"engine": self.engine, "noNewPrivileges": self.nnp, "user": self.user, "capabilities": self.caps}


def scenarios(engines: tuple[str, ...] = ENGINES) -> list[Scenario]:
    return [Scenario(e, nnp, u, c) for e in engines for nnp in (False, True) for u in USERS for c in CAPS]


# --------------------------------------------------------------------------- the strace window


def window_syscalls(trace: str, exec_path: str = "/exit42") -> set[str]:
    """Return the syscalls the loading process's threads enter between the filter load and exec."""
    tgid: dict[int, int] = {}
    pending_thread: dict[int, bool] = {}
    loader: int | None = None
    seen: set[str] = set()
    for line in trace.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        tid = int(m.group(1))
        tgid.setdefault(tid, tid)
        resumed, name = m.group(2), m.group(3)
        if name in ("clone", "clone3", "fork", "vfork"):
            pending_thread[tid] = "CLONE_THREAD" in line
        call = resumed or name
        r = _RESULT.search(line)
        if call in ("clone", "clone3", "fork", "vfork") and r and not line.endswith("<unfinished ...>"):
            child = int(r.group(1))
            tgid[child] = tgid[tid] if pending_thread.pop(tid, False) else child
            if loader is not None and tgid[tid] == tgid[loader] and not pending_thread.get(tid):
                tgid[child] = tgid[loader]  # a child process of the container init is filtered too
        if loader is None:
            if name and _LOAD.search(line):
                loader = tid
            continue
        if name and tgid.get(tid) == tgid[loader]:
            seen.add(name)
            if name == "execve" and tid == loader and f'execve("{exec_path}"' in line:
                break
    if loader is None:
        msg = "no seccomp filter load found in the strace output"
        raise RuntimeError(msg)
    return seen


def base_profile(allowed: set[str]) -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ARCHES,
        "syscalls": [{"names": sorted(allowed | set(WORKLOAD)), "action": "SCMP_ACT_ALLOW"}],
    }


PERMISSIVE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ARCHES,
    "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}],
}


# --------------------------------------------------------------------------- the rig


def _rootfs(dest: Path) -> Path:
    """busybox, a few applets, /exit42 and users root and 1000."""
    for sub in ("bin", "proc", "dev", "sys", "tmp", "etc", "run", "var/run", "var/tmp", "var/log", "var/lib/nginx"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    for applet in APPLETS:
        link = dest / "bin" / applet
        if not link.is_symlink():
            link.symlink_to("busybox")
    (dest / "exit42").write_bytes(exit42_elf())
    (dest / "exit42").chmod(0o755)
    (dest / "tmp").chmod(0o1777)
    (dest / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\nuser:x:1000:1000::/:/bin/sh\n")
    (dest / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\n")
    return dest


def _tar(rootfs: Path) -> bytes:
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(rootfs, arcname=".")
    return buf.getvalue()


_WRAPPER = """#!/bin/sh
# A runtime as an engine invokes it, traced when it creates a container (strace -D: the engine
# still waits on the runtime itself).
for arg; do
  if [ "$arg" = create ]; then exec strace -f -D -qq -o "{traces}/trace.$$" "{real}" "$@"; fi
done
exec "{real}" "$@"
"""


class Rig:
    """The engines and images of a measurement, started once."""

    def __init__(self, stack: ExitStack, work: Path, engines: tuple[str, ...]) -> None:
        self.work = work
        self.rootfs = _rootfs(work / "rootfs")
        self.traces = work / "traces"
        self.traces.mkdir()
        self.versions: dict[str, dict[str, str]] = {}
        for runtime in RUNTIMES:
            real = shutil.which(runtime)
            assert real is not None
            wrapper = work / "wrap" / runtime / runtime  # the engines know a runtime by its file name
            wrapper.parent.mkdir(parents=True)
            wrapper.write_text(_WRAPPER.format(traces=self.traces, real=real))
            wrapper.chmod(0o755)
        self.docker: PrivateDocker | None = None
        self.podman: PrivatePodman | None = None
        short = Path(f"/tmp/sc-measure-{os.getpid()}")
        if "docker" in engines:
            self.docker = PrivateDocker(short / "d", runtimes={"traced-runc": str(work / "wrap" / "runc" / "runc")})
            stack.callback(shutil.rmtree, short, ignore_errors=True)
            stack.enter_context(self.docker)
            self._import(self.docker)
            self.versions["docker"] = self.docker.versions()
        if "podman" in engines:
            self.podman = PrivatePodman(short / "p")
            stack.callback(shutil.rmtree, short, ignore_errors=True)
            stack.enter_context(self.podman)
            self._import(self.podman)
            self.versions["podman"] = self.podman.versions()
        for runtime in RUNTIMES:
            self.versions[runtime] = {runtime: runtime_version(runtime)}
        self.versions["docker"] = self.versions.get("docker", {}) | {"runc": runtime_version("runc")}

    def _import(self, engine: PrivateDocker | PrivatePodman) -> None:
        done = engine.run("import", "-", IMAGE, input=_tar(self.rootfs), timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{engine.name} import: {done.stderr.decode(errors='replace')}")

    @contextmanager
    def _profile(self, profile: dict[str, Any]) -> Iterator[Path]:
        path = self.work / f"profile-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(profile))
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def run(self, s: Scenario, profile: dict[str, Any], *, traced: bool = False) -> int:
        """Start the scenario's container under ``profile``; return its exit status (42: it started)."""
        name = f"measure-{uuid.uuid4().hex[:12]}"
        with self._profile(profile) as path:
            if s.engine in RUNTIMES:
                dest = self.work / "bundle"
                user = USERS[s.user] or (0, 0)
                bundle(dest, self.rootfs, args=["/exit42"], seccomp=profile, no_new_privileges=s.nnp, user=user,
                       caps=s.capabilities())  # fmt: skip
                cmd = bundle_cmd(s.runtime, dest, name)
                if traced:
                    cmd = ["strace", "-f", "-qq", "-o", str(self.traces / "trace.bundle"), *cmd]
                try:
                    return subprocess.run(cmd, capture_output=True, timeout=30, check=False).returncode
                except subprocess.TimeoutExpired:
                    return -9
                finally:
                    delete(s.runtime, name)
            engine = self.docker if s.engine == "docker" else self.podman
            assert engine is not None
            runtime: list[str] = []
            if traced:
                runtime = ["--runtime", "traced-runc" if s.engine == "docker" else str(self.work / "wrap/crun/crun")]
            args = ["run", "--rm", "--network", "host", "--name", name, *runtime, *s.flags(),
                    "--security-opt", f"seccomp={path}", IMAGE, "/exit42"]  # fmt: skip
            try:  # a container that starts takes about a second; one a refused call wedges is given up on
                return engine.run(*args, timeout=30).returncode
            except subprocess.TimeoutExpired:
                engine.run("rm", "-f", name, timeout=60)
                return -9

    def command(self, s: Scenario) -> str:
        """How the scenario starts its container, for the record."""
        if s.engine in RUNTIMES:
            caps = ", ".join(c.removeprefix("CAP_") for c in s.capabilities()) or "none"
            return f"{s.engine} run (bundle: noNewPrivileges {str(s.nnp).lower()}, user {s.user}, capabilities {caps})"
        return shlex.join([s.engine, "run", *s.flags(), "--security-opt", "seccomp=PROFILE", "IMAGE", "/exit42"])

    def starts(self, s: Scenario, allowed: set[str], repeat: int) -> bool:
        return all(self.run(s, base_profile(allowed)) == EXIT42_STATUS for _ in range(repeat))

    def discover(self, s: Scenario, repeat: int) -> set[str]:
        found: set[str] = set()
        for _ in range(repeat):
            for old in self.traces.iterdir():
                old.unlink()
            status = self.run(s, PERMISSIVE, traced=True)
            if status != EXIT42_STATUS:
                raise RuntimeError(f"{s}: the container did not start under strace ({status})")
            found |= window_syscalls(self._trace())
        return found

    def _trace(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # strace -D writes on until the traced container is gone
            texts = [p.read_text(errors="replace") for p in sorted(self.traces.iterdir())]
            loads = [t for t in texts if _LOAD.search(t) and 'execve("/exit42"' in t]
            if loads and not _strace_running(self.traces):
                return loads[0]
            time.sleep(0.2)
        raise RuntimeError("no complete trace of the container's start")


def _strace_running(traces: Path) -> bool:
    out = subprocess.run(["pgrep", "-f", f"strace -f -D -qq -o {traces}"], capture_output=True, check=False)
    return out.returncode == 0


def runtime_version(runtime: str) -> str:
    out = subprocess.run([runtime, "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].split("version", 1)[1].strip()


def package_version(package: str) -> str:
    cmd = ["dpkg-query", "-W", "-f", "${Version}", package]
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()


def libseccomp_version() -> str:
    from seccompose.check import libseccomp_version as version

    return version()


# --------------------------------------------------------------------------- measure, verify


def measure(rig: Rig, s: Scenario, repeat: int, log: Callable[[str], None]) -> list[str]:
    candidates = rig.discover(s, repeat)
    if s.runtime in GO_RUNTIMES:
        candidates |= set(SIGNAL_DEPENDENT)
    log(f"{s}: {len(candidates)} candidates: {' '.join(sorted(candidates))}")
    if not rig.starts(s, candidates, repeat):
        raise RuntimeError(f"{s}: the candidate set does not start the container")
    kept = set(candidates)
    for name in sorted(candidates):
        if name in SIGNAL_DEPENDENT and s.runtime in GO_RUNTIMES:
            continue
        if rig.starts(s, kept - {name}, repeat):
            kept.discard(name)
    if not rig.starts(s, kept, repeat):
        raise RuntimeError(f"{s}: the minimal set {sorted(kept)} does not start the container every time")
    log(f"{s}: minimal: {' '.join(sorted(kept))}")
    return sorted(kept)


def verify(rig: Rig, data: dict[str, Any], chosen: list[Scenario], repeat: int) -> list[str]:
    """Problems with shipped data: each mode's set must start every scenario; each member be needed in one."""
    problems = []
    runtime = data["runtime"]
    recorded = {
        (m["engine"], m["noNewPrivileges"], m["user"], m["capabilities"]): set(m["syscalls"])
        for m in data.get("measurements", [])
    }
    unrefutable = set(data.get("signalDependent", []))
    for nnp in (False, True):
        names = set(data["noNewPrivileges"][str(nnp).lower()])
        mine = [s for s in chosen if s.runtime == runtime and s.nnp == nnp]
        problems += [
            f"{s}: the shipped set does not start the container" for s in mine if not rig.starts(s, names, repeat)
        ]
        for name in sorted(names - unrefutable):
            witness = next((s for s in mine if name in recorded.get((s.engine, s.nnp, s.user, s.caps), ())), None)
            if witness is None:
                continue  # measured on an engine not verified in this run
            own = recorded[witness.engine, witness.nnp, witness.user, witness.caps]
            if rig.starts(witness, own - {name}, 1):
                problems.append(f"{witness}: the container starts without {name!r}; it is not needed")
        if mine:
            rig_log = "OK" if not problems else "FAILED"
            print(f"{runtime} nnp={str(nnp).lower()}: {rig_log} ({' '.join(sorted(names))})", file=sys.stderr)
    return problems


def _key(m: dict[str, Any]) -> tuple[str, bool, str, str]:
    return (m["engine"], m["noNewPrivileges"], m["user"], m["capabilities"])


def shipped(runtime: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{runtime}.json").read_text())
    return data


def document(runtime: str, results: dict[Scenario, list[str]], rig: Rig, repeat: int) -> dict[str, Any]:
    mine = {s: names for s, names in results.items() if s.runtime == runtime}
    union = {
        mode: sorted({n for s, names in mine.items() if s.nnp == nnp for n in names})
        for mode, nnp in (("true", True), ("false", False))
    }
    engines = sorted({s.engine for s in mine})
    return {
        "schema": 2,
        "runtime": runtime,
        "version": runtime_version(runtime),
        "package": f"{runtime} {package_version(runtime)} (Debian)",
        "engines": {e: rig.versions.get(e, {}) for e in engines},
        "libseccomp": libseccomp_version(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "date": dt.datetime.now(tz=dt.UTC).date().isoformat(),
        "tool": f"python tools/measure_runtime_base.py --repeat {repeat} --write",
        "method": (
            "strace -f of the runtime as each engine invokes it (and run directly on a bundle set up as docker run "
            "sets one up), starting a container that runs /exit42 (exit_group only) under an allow-all profile: "
            "the syscalls the container process's threads enter between the seccomp filter load and execve; then, "
            "under SCMP_ACT_ERRNO(EPERM) allowing those plus exit_group, each name is removed in turn and kept only "
            f"if the container fails to start without it ({repeat} runs each); per noNewPrivileges mode, the set is "
            "the union over engines, users (root, 1000:1000) and capabilities (the engine's default, none, "
            "SETUID+SETGID+CHOWN only, default plus SYS_ADMIN and NET_ADMIN)"
        ),
        "noNewPrivileges": union,
        "signalDependent": sorted(n for n in SIGNAL_DEPENDENT if runtime in GO_RUNTIMES),
        "reasons": {name: SIGNAL_DEPENDENT[name] for name in SIGNAL_DEPENDENT} if runtime in GO_RUNTIMES else {},
        "measurements": [
            {**s.to_json(), "command": rig.command(s), "syscalls": names}
            for s, names in sorted(mine.items(), key=lambda kv: (kv[0].engine, kv[0].nnp, kv[0].user, kv[0].caps))
        ],
    }


def why_not(engines: tuple[str, ...]) -> str | None:
    """Why this machine cannot measure ``engines`` (None: it can)."""
    if platform.machine() != "x86_64":
        return "the measurement's /exit42 program is x86_64 machine code"
    if os.geteuid() != 0:
        return "runc, crun, dockerd and podman need root here"
    tools = ["runc", "crun", "strace", "unshare", "nsenter", "pgrep", str(BUSYBOX)]
    if "docker" in engines:
        tools += ["/usr/sbin/dockerd", "/usr/bin/docker"]
    if "podman" in engines:
        tools.append("/usr/bin/podman")
    lacking = missing(*tools)
    if lacking:
        return f"not installed: {', '.join(lacking)} (see .ci/apt-packages)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=ENGINES, action="append", help="measure only these (default: all)")
    parser.add_argument("--repeat", type=int, default=2)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite data/runtime/<runtime>.json")
    mode.add_argument("--check", action="store_true", help="exit 1 if the measurement differs from the data")
    mode.add_argument("--quick", action="store_true", help="only verify the shipped data (for CI)")
    ns = parser.parse_args(argv)
    engines = tuple(ns.engine or ENGINES)
    reason = why_not(engines)
    if reason:
        parser.error(reason)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    chosen = scenarios(engines)
    status = 0
    started = time.monotonic()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="seccompose-measure-") as tmp:
        rig = Rig(stack, Path(tmp), engines)
        if ns.quick:
            for runtime in RUNTIMES:
                problems = verify(rig, shipped(runtime), chosen, ns.repeat)
                for p in problems:
                    log(p)
                status |= bool(problems)
            log(f"verified {len(chosen)} scenarios in {time.monotonic() - started:.0f}s")
            return status
        results = {s: measure(rig, s, ns.repeat, log) for s in chosen}
        for runtime in sorted({s.runtime for s in chosen}):
            doc = document(runtime, results, rig, ns.repeat)
            if ns.write:
                DATA.mkdir(parents=True, exist_ok=True)
                (DATA / f"{runtime}.json").write_text(json.dumps(doc, indent=2) + "\n")
                log(f"wrote {DATA / (runtime + '.json')}")
            elif ns.check:  # each scenario measured against the one recorded
                recorded = {_key(m): m["syscalls"] for m in shipped(runtime).get("measurements", [])}
                for m in doc["measurements"]:
                    if recorded.get(_key(m)) != m["syscalls"]:
                        log(f"{_key(m)}: measured {m['syscalls']} != shipped {recorded.get(_key(m))}")
                        status = 1
            else:
                print(json.dumps(doc, indent=2))
    log(f"measured {len(chosen)} scenarios in {time.monotonic() - started:.0f}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
