"""Record the app templates from their images' lives: ``python tools/record_images.py [NAME...]``.

For each template, the image of ``images/NAME/`` (the installed Debian packages in the shared
root filesystem, the project's own entrypoint) runs in a private dockerd the way
``tools/image_recipes.py`` says, under ``strace -f -ttt`` *inside* the container (strace is in the
image; the container gets CAP_SYS_PTRACE and ``default`` composed with it, so everything else
takes the paths it takes under Docker's default: a refused ``io_uring_setup`` makes MariaDB use
Linux AIO, an ENOSYS ``clone3`` makes glibc use ``clone``). Recorded, in order:

1. **first start** on empty data volumes: the entrypoint's whole first run (chown, user and
   database set-up, temporary servers, privilege drop, exec), the workload, the image's
   healthcheck (also as ``HEALTHCHECK``'s ``/bin/sh -c``) and admin commands through ``docker exec``
   (each traced too), the stop signal;
2. **restart** on the same volumes: the entrypoint's second-run path, the data checks, the admin
   commands, the stop;
3. **--cap-drop ALL** plus the capabilities the image needs (``Recipe.caps``; not for images that
   need Docker's defaults), first start on new volumes and the first workload step: the paths a
   missing capability sends the entrypoint down.

For the ten servers ``tools/record_templates.py`` also runs on the host (same Debian packages),
its session's traces are added (``--no-host-session`` leaves them out), so the templates also
cover the server started on its own. ``seccompose learn`` merges the traces into
``data/templates/NAME.json``: ``default``'s argument conditions for the names it conditions, an
aarch64 rule ported from the x86_64 one, provenance with the package versions, the image and its
entrypoint's steps, the workload, the date and the capabilities it needs; and ``phases.startup``, the
names the servers called only before they listened (as ``tools/record_phases.py`` defines it).
Then it prints what changed against the shipped template: the package versions and the semantic
diff of the two profiles composed for Docker's default capabilities.

    nox -s record -- redis          # the same, in the nox environment (root)
    python tools/record_images.py --diff-only redis      # record to a temporary folder, print the diff

Needs root, mmdebstrap and docker.io (the rootfs is built from the Debian mirror the host's apt
uses, and cached). Uses ports 28400-28499 and the private dockerd under ``/tmp/sc18-rec-PID``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

import engines  # noqa: E402 - after the path setup
import image_recipes  # noqa: E402
import images  # noqa: E402
from image_session import LegFailed, Life, ensure_tiny_image  # noqa: E402

IMAGE_PORTS = {
    "nginx": 80, "redis": 6379, "postgres": 5432, "memcached": 11211, "mariadb": 3306, "httpd": 80, "haproxy": 80,
    "squid": 3128, "lighttpd": 80, "gunicorn": 8000, "rabbitmq": 5672, "tomcat": 8080, "node": 3000,
    "registry": 5000, "caddy": 80, "influxdb": 8086, "mosquitto": 1883, "php": 9000, "varnish": 80, "nats": 4222,
}  # fmt: skip
"""The port each official image's server listens on (the ``ready`` of its startup phase). The node
image has no port of its own: 3000 is the port its documentation's examples use."""

_CALL = re.compile(rb"^(\d+)\s+(\d+\.\d+)\s+([a-z_][a-z0-9_]*)\(")


def _compose(*args: str) -> dict[str, Any]:
    """``seccompose compose ...`` as users run it; returns the profile."""
    done = subprocess.run([sys.executable, "-m", "seccompose", "compose", *args], capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"seccompose compose {' '.join(args)}: {done.stderr}")
    profile: dict[str, Any] = json.loads(done.stdout)
    return profile


def recording_profiles(work: Path, caps: Sequence[str] | None) -> tuple[Path, Path | None]:
    """``default`` plus CAP_SYS_PTRACE (strace) for Docker's capabilities, and for --cap-drop ALL + ``caps``."""
    full = work / "record-default.json"
    full.write_text(json.dumps(_compose("--base", "default", "--cap-add", "SYS_PTRACE", "--format", "docker")))
    if caps is None:
        return full, None
    dropped = work / "record-capdrop.json"
    adds = [f"--cap-add={c}" for c in (*caps, "SYS_PTRACE")]
    dropped.write_text(json.dumps(_compose("--base", "default", "--cap-drop", "ALL", *adds, "--format", "docker")))
    return full, dropped


def calls(trace: Path) -> list[tuple[float, str]]:
    """(time, syscall name) of every call an ``strace -f -ttt`` log starts (resumed halves are not calls)."""
    with trace.open("rb") as f:
        return [(float(m[2]), m[3].decode()) for line in f if (m := _CALL.match(line))]


def startup_only(server_traces: Sequence[Path]) -> list[str]:
    """Names every server trace calls only before its first ``listen()`` (tools/record_phases.py's rule).

    Conservative: the earliest listen() of a leg (an entrypoint's temporary server on a socket
    counts) ends its startup, and a name called after readiness in any leg is not startup-only, nor one
    that becomes on aarch64 what a name called after readiness becomes there.
    """
    before: set[str] = set()
    after: set[str] = set()
    for trace in server_traces:
        events = sorted(calls(trace))
        ready = next((when for when, name in events if name == "listen"), None)
        if ready is None:
            continue  # no listener (it never got ready): says nothing about readiness
        before |= {name for when, name in events if when < ready}
        after |= {name for when, name in events if when >= ready}
    return sorted(n for n in before - after if not _ported(n) & (after | _ported(*after)))


def _ported(*names: str) -> set[str]:
    """The aarch64 names a program calling ``names`` on x86_64 calls (epoll_wait -> epoll_pwait).

    The phase's names hold for every arch: a name called only before readiness on x86_64 (epoll_pwait)
    may be what aarch64 calls for one called after it (epoll_wait), so it is not startup-only.
    """
    from seccompose.errors import UnknownSyscallError
    from seccompose.porting import port_names

    out: set[str] = set()
    for name in names:
        try:
            out |= set(port_names([name]).names)
        except UnknownSyscallError:
            out.add(name)
    return out


def record_legs(engine: engines.PrivateDocker, recipe: image_recipes.Recipe, work: Path, log: Any) -> Path:
    """Run the legs under strace; return the folder of traces."""
    traces = work / "traces"
    full, dropped = recording_profiles(work, recipe.caps)
    with Life(engine, recipe, work / "life", trace=traces) as life:
        leg = life.leg("first", options=["--security-opt", f"seccomp={full}"])
        log(f"  first start: {leg.seconds}")
        leg = life.leg("restart", options=["--security-opt", f"seccomp={full}"], workload=recipe.restart)
        log(f"  restart: {leg.seconds}")
        if dropped is not None:
            adds = [f"--cap-add={c}" for c in recipe.caps or ()]
            options = ["--cap-drop", "ALL", *adds, "--security-opt", f"seccomp={dropped}"]
            leg = life.leg("capdrop", data="b", options=options, workload=recipe.workload[: recipe.first_steps])
            log(f"  --cap-drop ALL {' '.join(adds)}: {leg.seconds}")
    return traces


def host_session_traces(name: str, work: Path) -> list[Path]:
    """The server's own session on the host (tools/record_templates.py), traced as that script traces it."""
    import record_templates

    if name not in record_templates.SERVERS:
        return []
    server = record_templates.SERVERS[name]
    missing = [p for p in (server.program, "/usr/bin/strace") if not Path(p).exists()]
    if missing:
        raise RuntimeError(f"{name}: the host session needs {', '.join(missing)} (see .ci/apt-packages), "
                           "or use --no-host-session")  # fmt: skip
    return list(record_templates.trace_session(server, work / "host"))


def template_doc(recipe: image_recipes.Recipe, traces: Sequence[Path], versions: dict[str, str],
                 host: Sequence[Path], shipped: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """Learn the template from the traces, with its provenance, needed capabilities and startup phase."""
    from seccompose.learn import learn

    exceptions = (shipped or {}).get("looserThanDefault") or None
    command = (f"in the image {recipe.tag}: strace -f -qq -ttt -o TRACE ENTRYPOINT CMD (and each docker exec), "
               "under seccompose compose --base default --cap-add SYS_PTRACE")  # fmt: skip
    if host:
        command += "; and the server on the host as tools/record_templates.py starts it"
    primary = recipe.packages[0]
    doc = learn(
        sorted([*traces, *host]),
        program=recipe.program,
        version=f"{primary} {versions.get(primary, 'unknown')}",
        workload=recipe.workload_text(),
        name=recipe.name,
        images=recipe.images,
        description=recipe.description,
        trace_command=command,
        tool=f"tools/record_images.py {recipe.name}",
        progress=False,
        looser_than_default=exceptions,
    )
    prov = doc["provenance"]
    prov["image"] = recipe.tag
    prov["entrypoint"] = recipe.entrypoint
    prov["packages"] = ", ".join(f"{p} {versions[p]}" for p in sorted(versions))
    prov["capabilities"] = (
        "Docker's default capabilities (the official image is not run with --cap-drop ALL)"
        if recipe.caps is None
        else " ".join(["--cap-drop", "ALL", *(f"--cap-add={c}" for c in sorted(recipe.caps))])
    )
    server = [t for t in traces if "-server-" in t.name]
    # Only names allowed outright (tools/record_templates.py's rule): a startup phase lets its names run
    # whatever their arguments until the container is ready, so a name under default's conditions stays out.
    allowed = {
        n
        for r in doc["rules"]
        if r.get("action", "SCMP_ACT_ALLOW") == "SCMP_ACT_ALLOW" and not {"args", "includes", "excludes"} & set(r)
        for n in r["names"]
    }
    names = [n for n in startup_only(server) if n in allowed]
    doc["phases"] = {
        "startup": {
            "names": names,
            "ready": {"port": IMAGE_PORTS[recipe.name]},
            "timeout": 300,
            "comment": (
                f"called only before the server's first listen() in every start recorded by tools/record_images.py "
                f"{recipe.name} ({primary} {versions.get(primary, '?')}, {time.strftime('%Y-%m-%d')})"
            ),
        }
    }
    order = ["schema", "name", "description", "images", "capabilityMap", "looserThanDefault",
             "provenance", "phases", "rules"]  # fmt: skip
    return {k: doc[k] for k in order if k in doc} | {k: v for k, v in doc.items() if k not in order}


def package_versions(doc: dict[str, Any]) -> dict[str, str]:
    """The package versions a template's provenance records (``"packages": "NAME VERSION, ..."``)."""
    text = str(doc.get("provenance", {}).get("packages") or "")
    return dict(item.strip().split(" ", 1) for item in text.split(",") if " " in item.strip())


def semantic_diff(old: Path, new: Path) -> str:
    """What changed: package versions, then the two templates composed for Docker's default capabilities."""
    from seccompose import Arch, compose
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    from seccompose.diff import diff
    from seccompose.loader import load_template

    a_doc, b_doc = json.loads(old.read_text()), json.loads(new.read_text())
    a_pk = package_versions(a_doc)
    b_pk = package_versions(b_doc)
    lines = [
        f"package {pkg}: {a_pk.get(pkg, '(none)')} -> {b_pk.get(pkg, '(none)')}"
        for pkg in sorted(set(a_pk) | set(b_pk))
        if a_pk.get(pkg) != b_pk.get(pkg)
    ]
    for arch in (Arch.X86_64, Arch.AARCH64):
        a = compose(load_template(old), arch=arch, caps=DOCKER_DEFAULT_CAPABILITIES, runtime=None)
        b = compose(load_template(new), arch=arch, caps=DOCKER_DEFAULT_CAPABILITIES, runtime=None)
        d = diff(a, b, a_name="shipped", b_name="recorded", arch=arch)
        lines.append(f"{arch.value}: {len(a.allowed())} -> {len(b.allowed())} syscalls allowed")
        if not d.equal:
            lines.append(d.format_text())
    return "\n".join(lines)


def sizes(path: Path) -> str:
    """How many syscalls the template allows by itself (no capabilities, no runtime), per host arch."""
    from seccompose import Arch, compose
    from seccompose.loader import load_template

    t = load_template(path)
    return ", ".join(
        f"{a.value} {len(compose(t, arch=a, runtime=None).allowed())}" for a in (Arch.X86_64, Arch.AARCH64)
    )


def prepare_engine(root: Path, log: Any) -> engines.PrivateDocker:
    """A private dockerd with the images built (the rootfs cached by its package list)."""
    rootfs = images.build()
    engine = engines.PrivateDocker(root)
    engine.start()
    try:
        started = time.monotonic()
        images.prepare(engine, rootfs)
        ensure_tiny_image(engine)
        log(f"images ready in {time.monotonic() - started:.0f}s ({rootfs.name})")
    except BaseException:
        engine.stop()
        raise
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "names", nargs="*", help=f"templates to record (default: all): {', '.join(image_recipes.RECIPES)}"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "templates")
    parser.add_argument("--work", type=Path, default=Path("/tmp/seccompose-record-images"))
    parser.add_argument("--diff-only", action="store_true", help="write to a temporary folder; print the diff only")
    parser.add_argument("--no-host-session", action="store_true", help="only the image's life, not the host session")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: dockerd, mmdebstrap and the servers' own users need it")
    names = args.names or list(image_recipes.RECIPES)
    for name in names:
        if name not in image_recipes.RECIPES:
            parser.error(f"unknown template {name!r}; choose from {', '.join(image_recipes.RECIPES)}")
    out = Path(tempfile.mkdtemp(prefix="seccompose-recorded-")) if args.diff_only else args.out

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    state = Path(f"/tmp/sc18-rec-{os.getpid()}")  # short: unix socket paths are limited to 107 bytes
    engine = prepare_engine(state, log)
    failed = 0
    try:
        versions_all = images.package_versions(images.build())
        for name in names:
            recipe = image_recipes.RECIPES[name]
            started = time.monotonic()
            work = args.work / name
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            work.chmod(0o755)
            shipped_path = ROOT / "data" / "templates" / f"{name}.json"
            shipped = json.loads(shipped_path.read_text()) if shipped_path.is_file() else None
            try:
                log(f"{name}: recording {recipe.tag}")
                traces = record_legs(engine, recipe, work, log)
                host = [] if args.no_host_session else host_session_traces(name, work)
                versions = {p: versions_all[p] for p in recipe.packages if p in versions_all}
                doc = template_doc(recipe, sorted(traces.glob("*.trace")), versions, host, shipped)
            except (LegFailed, RuntimeError, OSError, subprocess.SubprocessError) as exc:
                log(f"{name}: FAILED: {exc}")
                failed += 1
                continue
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{name}.json"
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            print(f"{name}: {sizes(path)} -> {path} ({time.monotonic() - started:.0f}s)")
            if shipped is not None:
                print(semantic_diff(shipped_path, path) or "(no change)")
    finally:
        engine.stop()
        shutil.rmtree(state, ignore_errors=True)  # the daemon's data root: the imported images, 1.5 GB
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
