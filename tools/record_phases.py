"""Record the startup phases of the shipped server templates: ``python tools/record_phases.py [NAME...]``.

Runs each server's recipe from ``tools/record_templates.py`` (first start, start, workload,
reload, more work, clean stop) under ``strace -f -ttt``. The server counts as ready at
its first ``listen()``: the earliest moment an agent watching the port could see it
listening, so a call the recording puts after it is never taken for a startup call.
A syscall is *startup-only* when every call of it came before that moment (the
first-start steps, such as ``initdb``, are all startup: an image's entrypoint runs them
before the server). Reloads and shutdown come after readiness, so what they need stays
allowed.

Writes ``phases.startup`` into ``data/templates/NAME.json`` (the rest of the template is
left as it is), with ``ready`` the port the official image listens on and the recording
named in ``comment``; prints per template how many syscalls the steady state no longer
allows once composed the way Docker starts containers (Docker's capabilities, the
runtimes' base sets, which stay allowed: ``docker exec`` needs them at any time).

Must run as root, like ``tools/record_templates.py`` (it takes the same ports and lock).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent

IMAGE_PORTS = {
    "nginx": 80,
    "redis": 6379,
    "postgres": 5432,
    "memcached": 11211,
    "mariadb": 3306,
    "httpd": 80,
    "haproxy": 80,
    "squid": 3128,
    "lighttpd": 80,
    "gunicorn": 8000,
}
"""The port each official image's server listens on (what ``ready`` says; ``--ready port:N`` overrides)."""

_LINE = re.compile(rb"^(\d+)\s+(\d+\.\d+)\s+([a-z_][a-z0-9_]*)\(")


def calls(trace: Path) -> Iterator[tuple[float, str]]:
    """Yield (time, syscall name) for each call an ``strace -f -ttt`` log starts (resumed halves are not calls)."""
    with trace.open("rb") as f:
        for line in f:
            m = _LINE.match(line)
            if m:
                yield float(m[2]), m[3].decode()


def split(first_start: Sequence[Path], server: Sequence[Path]) -> tuple[float, set[str], set[str]]:
    """Return (ready time, names called before it, names called at or after it)."""
    events = sorted(c for t in server for c in calls(t))
    ready = next((when for when, name in events if name == "listen"), None)
    if ready is None:
        msg = "the server never called listen(): no readiness to split at"
        raise RuntimeError(msg)
    before = {name for t in first_start for _, name in calls(t)}
    before |= {name for when, name in events if when < ready}
    after = {name for when, name in events if when >= ready}
    return ready, before, after


def record(recipes: ModuleType, name: str, base: Path) -> tuple[list[str], str]:
    """Run one recipe under strace; return (its startup-only names, its package version)."""
    server = recipes.SERVERS[name]
    work = recipes.fresh_workdir(base, name)
    server.prepare(work)
    traces = work / "traces"
    traces.mkdir()
    launches: list[tuple[str, Path]] = []

    def launch(argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        trace = traces / f"{name}-{len(launches)}.trace"
        launches.append((shlex.join(argv), trace))
        strace = ["strace", "-f", "-ttt", "-qq", "-o", str(trace), *(["-u", user] if user else []), *argv]
        with log.open("wb") as out:
            return subprocess.Popen(
                strace, cwd=work, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **server.env},
                start_new_session=True,
            )

    recipes.session(server, work, launch, step_timeout=600)
    firsts = [t for _, t in launches[:-1]]
    _, before, after = split(firsts, [launches[-1][1]])
    return sorted(before - after), str(recipes.package_version(server.package))


def write_phase(name: str, names: list[str], out_dir: Path, version: str) -> Path:
    path = out_dir / f"{name}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    allowed = {n for r in doc["rules"] if r.get("action", "SCMP_ACT_ALLOW") == "SCMP_ACT_ALLOW" for n in r["names"]}
    kept = [n for n in names if n in allowed]  # a phase names only what the template allows
    doc["phases"] = {
        "startup": {
            "names": kept,
            "ready": {"port": IMAGE_PORTS[name]},
            "timeout": 300,
            "comment": (
                f"called only before the server's first listen() in tools/record_phases.py {name} "
                f"({version}, kernel {os.uname().release}, {time.strftime('%Y-%m-%d')})"
            ),
        }
    }
    ordered = {k: doc[k] for k in doc if k != "rules"} | {"rules": doc["rules"]}
    path.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
    return path


def steady_state_table(names: Sequence[str]) -> str:
    """Per template: syscalls allowed, startup-only, and how many the steady state refuses once observed."""
    sys.path.insert(0, str(ROOT / "src"))
    from seccompose import Arch, compose
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    from seccompose.loader import load_template
    from seccompose.observe import observe

    rows = ["| template | allowed | startup-only (recorded) | refused after ready | kept (another layer needs them) |",
            "|---|---:|---:|---:|---|"]
    for name in names:
        template = load_template(name)
        if template.startup is None:
            continue
        p = compose(name, arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, no_new_privileges=False)
        o = observe(p, listener_path="/run/seccompose/agent.sock", startup=template.startup)
        phased = o.metadata.startup.names if o.metadata.startup else ()
        kept = sorted(set(template.startup.names) - set(phased))
        rows.append(
            f"| {name} | {len(p.allowed())} | {len(template.startup.names)} | {len(phased)} | {', '.join(kept)} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help="servers to record (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "templates")
    parser.add_argument("--work", type=Path, default=Path("/tmp/seccompose-record-phases"))
    parser.add_argument("--table", action="store_true", help="only print the steady-state table of the templates")
    args = parser.parse_args(argv)
    import record_templates as recipes  # beside this script (tools/ leads sys.path)

    names = args.names or list(recipes.SERVERS)
    if args.table:
        # every shipped template with a phase: those tools/record_images.py recorded from images too
        shipped = [p.stem for p in sorted((ROOT / "data" / "templates").glob("*.json"))]
        print(steady_state_table(args.names or shipped))
        return 0
    if os.geteuid() != 0:
        parser.error("run as root: the servers switch to their own users as their images do")
    failed = 0
    for name in names:
        if name not in recipes.SERVERS:
            parser.error(f"unknown server {name!r}; choose from {', '.join(recipes.SERVERS)}")
        started = time.monotonic()
        try:
            startup_only, version = record(recipes, name, args.work)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed += 1
            continue
        path = write_phase(name, startup_only, args.out, version)
        print(f"{name}: {len(startup_only)} startup-only: {' '.join(startup_only)} -> {path} "
              f"({time.monotonic() - started:.0f}s)")
    print(steady_state_table(names))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
