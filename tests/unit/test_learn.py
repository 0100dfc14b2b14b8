"""learn(): traces to templates, the CLI, and the shipped learned templates' consistency."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from seccompose.arch import Arch
from seccompose.cli import main
from seccompose.errors import FormatError, InvalidArgumentError
from seccompose.learn import add_enosys_fallbacks, inherit_default, learn, read_traces
from seccompose.loader import load_template, template_names
from seccompose.porting import port_names
from seccompose.syscalls import table

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "good"
ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("gunicorn", "haproxy", "httpd", "lighttpd", "mariadb", "memcached", "nginx", "postgres", "redis", "squid")
"""Recorded from the server alone on the host (tools/record_templates.py) and from its image."""
LEARNED = tuple(
    sorted(
        n
        for n in template_names()
        if dict(load_template(n).provenance).get("tool", "").startswith(("tools/record_templates.py", "tools/record_images.py"))
    )
)


def _learn(paths: list[Path], **kw: object) -> dict[str, object]:
    return learn(paths, program="probe", arch=Arch.X86_64, date="2026-11-29", progress=False, **kw)  # type: ignore[arg-type]


def _names(doc: dict[str, object], arch: str) -> set[str]:
    rules = doc["rules"]
    assert isinstance(rules, list)
    # allowed outright: not under argument conditions or a capability gate (inherited from default)
    return {
        n
        for r in rules
        if r["arches"] == [arch] and r["action"] == "SCMP_ACT_ALLOW" and not ({"args", "includes", "excludes"} & set(r))
        for n in r["names"]
    }


def test_traces_merge_by_union() -> None:
    strace_only = _names(_learn([GOOD / "strace" / "ttt-no-f.txt"]), "x86_64")
    audit_only = _names(_learn([GOOD / "audit" / "auditd-foreground.log"]), "x86_64")
    both = _names(_learn([GOOD / "strace" / "ttt-no-f.txt", GOOD / "audit" / "auditd-foreground.log"]), "x86_64")
    assert both == strace_only | audit_only
    assert audit_only - strace_only  # the merge really adds something


def test_ff_directory_is_every_process() -> None:
    ff = _names(_learn([GOOD / "strace" / "ff"]), "x86_64")
    assert ff == _names(_learn([GOOD / "strace" / "f-summary.txt"]), "x86_64")


def test_32_bit_calls_land_in_the_host_rule_but_are_not_ported() -> None:
    learned = read_traces([GOOD / "audit" / "auditd-foreground.log"], arch=Arch.X86_64, progress=False)
    assert learned.names([Arch.X86]) == ["exit", "getpid", "write"]
    doc = _learn([GOOD / "audit" / "auditd-foreground.log"])
    assert {"exit", "getpid", "write"} <= _names(doc, "x86_64")


def test_aarch64_rule_is_the_port_of_the_x86_64_calls() -> None:
    doc = _learn([GOOD / "strace" / "f-summary.txt"])
    x86_64 = _names(doc, "x86_64")
    assert "access" in x86_64
    assert "arch_prctl" in x86_64
    aarch64 = _names(doc, "aarch64")
    assert aarch64 == set(port_names(sorted(x86_64)).names)
    assert "faccessat" in aarch64
    assert "arch_prctl" not in aarch64
    prov = doc["provenance"]
    assert isinstance(prov, dict)
    assert "access -> faccessat" in prov["porting"]
    assert "arch_prctl dropped (arch-only)" in prov["porting"]


def test_unknown_numbers_are_left_out_and_reported() -> None:
    doc = _learn([GOOD / "strace" / "f-summary.txt"])
    assert "cachestat" in _names(doc, "x86_64")  # syscall_0x1c3, resolved
    assert not any(n.startswith("syscall_") for n in _names(doc, "x86_64"))
    prov = doc["provenance"]
    assert isinstance(prov, dict)
    assert prov["unresolved"] == "syscall_0x3e8 (x86_64)"


def test_provenance_and_template_loads(tmp_path: Path) -> None:
    doc = _learn(
        [GOOD / "strace" / "f-summary.txt"], version="1.0", workload="run it", trace_command="strace -f ./probe"
    )
    prov = doc["provenance"]
    assert isinstance(prov, dict)
    for key in ("program", "version", "workload", "kernel", "arch", "date", "traceCommand", "traces"):
        assert prov[key], key
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(doc))
    template = load_template(path)
    assert template.name == "probe"
    assert "openat" in template.names(Arch.X86_64)


def test_empty_and_missing_traces_are_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("+++ exited with 0 +++\n")
    with pytest.raises(FormatError, match=r"no syscall found in this strace trace in .*empty.txt"):
        _learn([empty])
    with pytest.raises(FormatError, match="no trace given"):
        _learn([])
    with pytest.raises(FileNotFoundError):
        _learn([tmp_path / "missing.txt"])


def test_progress_bar_only_when_asked(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(10, 1000))  # every call is a redraw
    monkeypatch.setattr("seccompose.learn.time.monotonic", lambda: float(next(clock)))
    read_traces([GOOD / "strace" / "threads-summary.txt"], arch=Arch.X86_64, progress=True)
    assert "learn: [" in capsys.readouterr().err
    read_traces([GOOD / "strace" / "threads-summary.txt"], arch=Arch.X86_64, progress=False)
    assert capsys.readouterr().err == ""
    read_traces([GOOD / "strace" / "threads-summary.txt"], arch=Arch.X86_64)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.json"
    code = main(["learn", str(GOOD / "strace" / "f-summary.txt"), "-o", str(out), "--program", "probe",
                 "--version", "9", "--image", "probe:*", "--arch", "x86_64", "--no-progress"])  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["images"] == ["probe:*"]
    assert doc["provenance"]["version"] == "9"
    err = capsys.readouterr().err
    # every count says what it counts (issue 15: the summary line was "68 for x86_64, 67 for aarch64, ...")
    assert re.search(r"\d+ syscalls allowed on x86_64 \(recorded\), \d+ syscalls allowed on aarch64 \(ported\)", err), err
    assert "syscall_0x3e8" in err
    assert main(["learn", str(GOOD / "strace" / "f-summary.txt"), "--arch", "sparc", "--program", "x"]) == 2
    assert "unknown architecture 'sparc' at --arch" in capsys.readouterr().err
    for jobs in ("1", "2"):  # the number of counting processes changes nothing in the template
        again = tmp_path / f"j{jobs}.json"
        assert main(["learn", str(GOOD / "strace" / "f-summary.txt"), "-o", str(again), "--program", "probe",
                     "--version", "9", "--image", "probe:*", "--arch", "x86_64", "-j", jobs]) == 0  # fmt: skip
        assert json.loads(again.read_text())["rules"] == doc["rules"]
    assert main(["learn", str(GOOD / "strace" / "f-summary.txt"), "--program", "x", "--jobs", "0"]) == 2
    assert "jobs must be a whole number of processes, 1 or more, not 0" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", [0, -1, True, 1.5])
def test_jobs_must_be_a_number_of_processes(jobs: object) -> None:
    with pytest.raises(InvalidArgumentError, match="jobs must be a whole number of processes"):
        _learn([GOOD / "strace" / "f-summary.txt"], jobs=jobs)


def test_cli_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class Stdin:
        buffer = io.BytesIO(b"getpid() = 1\nbrk(NULL) = 0x1\n")

    monkeypatch.setattr("sys.stdin", Stdin())
    assert main(["learn", "-", "--program", "p", "--arch", "x86_64"]) == 0
    assert json.loads(capsys.readouterr().out)["rules"][0]["names"] == ["brk", "getpid"]


@pytest.mark.parametrize("name", LEARNED)
def test_shipped_learned_template_is_consistent(name: str) -> None:
    """Drift check: each learned template's aarch64 rule is the port of its x86_64 rule."""
    path = ROOT / "data" / "templates" / f"{name}.json"
    doc = json.loads(path.read_text())
    assert doc["name"] == name
    assert any(name in image for image in doc["images"])  # mosquitto's image is eclipse-mosquitto
    # the learned rules: allowed outright (the others are default's, for the names it gates or conditions)
    allows = [r for r in doc["rules"] if r["action"] == "SCMP_ACT_ALLOW" and not {"args", "includes", "excludes"} & set(r)]
    x86_64, aarch64 = allows
    assert add_enosys_fallbacks(doc) == doc  # the ENOSYS rules are exactly what learn() derives
    assert inherit_default(doc)[0] == doc  # and default's rules are exactly what learn() takes
    assert x86_64["arches"] == ["x86_64"]
    assert aarch64["arches"] == ["aarch64"]
    assert x86_64["names"] == sorted(set(x86_64["names"]))
    native = [n for n in x86_64["names"] if n in table(Arch.X86_64)]
    # the port, less what default conditions or gates on aarch64 (vfork ports to clone, which has conditions)
    port = {"rules": [{"names": list(port_names(native).names), "action": "SCMP_ACT_ALLOW", "arches": ["aarch64"]}]}
    assert aarch64["names"] == inherit_default(port)[0]["rules"][0]["names"]
    for key in ("program", "version", "workload", "kernel", "arch", "date", "traceCommand", "tool"):
        assert doc["provenance"][key], key
    # recorded from the server alone, or from its image's life (which adds the server alone's session)
    assert doc["provenance"]["tool"] in (f"tools/record_templates.py {name}", f"tools/record_images.py {name}")
    assert load_template(name).names()


def test_record_tool_knows_every_learned_template() -> None:
    assert set(SERVERS) <= set(LEARNED)
    text = (ROOT / "tools" / "record_templates.py").read_text()
    for name in SERVERS:
        assert f'name="{name}"' in text
    recipes = (ROOT / "tools" / "image_recipes.py").read_text()
    for name in LEARNED:
        assert f'name="{name}"' in recipes, f"no image recipe re-records {name} (tools/image_recipes.py)"
    assert shutil.which("python3")


def test_newer_calls_not_seen_fall_back_with_enosys() -> None:
    # The trace shows clone but not clone3: a glibc that tries clone3 must get ENOSYS to fall back.
    doc = _learn([GOOD / "strace" / "f-summary.txt"])
    rules = doc["rules"]
    assert isinstance(rules, list)
    enosys = [r for r in rules if r["action"] == "SCMP_ACT_ERRNO"]
    assert {"clone3", "statx"} <= {n for r in enosys if r["arches"] == ["x86_64"] for n in r["names"]}
    assert all(r["errnoRet"] == 38 for r in enosys)
    allowed = _names(doc, "x86_64")
    for r in enosys:
        assert allowed.isdisjoint(r["names"]) or r["arches"] != ["x86_64"]
    from seccompose import Arch, compose
    from seccompose.learn import add_enosys_fallbacks
    from seccompose.templates import Template

    assert add_enosys_fallbacks(doc) == doc  # idempotent
    profile = compose(Template.from_dict(doc), arch=Arch.X86_64, runtime=None)
    for name in (n for r in enosys if r["arches"] == ["x86_64"] for n in r["names"]):
        assert profile.explain(name).errno == 38


_TRACE = """\
100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0}, 88) = 101
100 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
100 personality(0xffffffff) = 0
100 unshare(CLONE_NEWNS) = -1 EPERM (Operation not permitted)
100 io_uring_setup(8, 0x7ffd) = 4
100 read(3, "", 8) = 0
100 exit_group(0) = ?
"""


def test_learned_templates_are_never_looser_than_default(tmp_path: Path) -> None:
    """A trace shows which syscalls, not which arguments: clone, socket, personality take default's conditions."""
    from seccompose import compose
    from seccompose.looser import looser_than
    from seccompose.templates import Template

    trace = tmp_path / "app.trace"
    trace.write_text(_TRACE)
    doc = _learn([trace])
    assert doc["provenance"]["refusedAsDefault"] == "aarch64: io_uring_setup; x86_64: io_uring_setup"  # type: ignore[index]
    template = Template.from_dict(doc)
    for arch in (Arch.X86_64, Arch.AARCH64):
        for caps in ([], ["SYS_ADMIN"], ["NET_ADMIN", "SYS_NICE"]):
            mine = compose(template, arch=arch, caps=caps)
            report = looser_than(mine, compose("default", arch=arch, caps=caps))
            assert report.ok, report.format_text()
        plain = compose(template, arch=arch, caps=[])
        assert "clone" not in plain.allowed()  # conditional: no CLONE_NEW* flags
        assert "clone" in {n for r in plain.rules if r.args for n in r.names}  # clone3 falls back to it
        assert "io_uring_setup" not in plain.allowed()
        assert "unshare" not in plain.allowed()
        assert "unshare" in compose(template, arch=arch, caps=["SYS_ADMIN"]).allowed()
        assert "read" in plain.allowed()
    # Kept on purpose, with a reason: allowed, and declared.
    kept = _learn([trace], looser_than_default={"io_uring_setup": "the app's I/O engine needs it"})
    assert kept["looserThanDefault"] == {"io_uring_setup": "the app's I/O engine needs it"}
    template = Template.from_dict(kept)
    mine = compose(template, arch=Arch.X86_64, caps=[])
    report = looser_than(mine, compose("default", arch=Arch.X86_64, caps=[]), exceptions=dict(template.looser_than_default))
    assert report.ok
    assert {e.name for e in report.excepted} == {"io_uring_setup"}
    # The old behaviour, asked for by name: every traced call allowed outright, looser than default.
    raw = Template.from_dict(_learn([trace], base=None))
    assert not looser_than(compose(raw, arch=Arch.X86_64, caps=[]), compose("default", arch=Arch.X86_64, caps=[])).ok


def test_learn_cli_keeps_a_refused_name_only_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seccompose.cli import main

    trace = tmp_path / "app.trace"
    trace.write_text(_TRACE)
    out = tmp_path / "app.json"
    assert main(["learn", str(trace), "-o", str(out), "--program", "app", "--arch", "x86_64", "--no-progress"]) == 0
    assert "left out, as the default template refuses them: aarch64: io_uring_setup" in capsys.readouterr().err
    assert main(["learn", str(trace), "-o", str(out), "--program", "app", "--arch", "x86_64", "--no-progress",
                 "--looser-than-default", "io_uring_setup=its I/O engine"]) == 0
    assert json.loads(out.read_text())["looserThanDefault"] == {"io_uring_setup": "its I/O engine"}
    assert main(["learn", str(trace), "--program", "app", "--looser-than-default", "io_uring_setup"]) == 2
    assert "is not NAME=REASON" in capsys.readouterr().err


def test_learning_from_events_is_never_looser_than_default() -> None:
    """learn --events: a needed clone gets default's conditions, a refused io_uring_setup is left out."""
    from seccompose import compose
    from seccompose.events import Event
    from seccompose.learn import learn_from_events
    from seccompose.looser import looser_than
    from seccompose.templates import Template

    events = [
        Event("syscall", 0.0, "c1", "", "app:1", abi="x86_64", arch="x86_64", syscall=name, mode="complain",
              phase="steady", allow={"names": [name], "action": "SCMP_ACT_ALLOW"})
        for name in ("clone", "io_uring_setup", "read")
    ]  # fmt: skip
    doc, _ = learn_from_events(events, image="app:*", date="2026-12-07")
    assert doc["provenance"]["refusedAsDefault"] == "x86_64: io_uring_setup"
    template = Template.from_dict(doc)
    profile = compose(template, arch=Arch.X86_64, caps=[])
    assert "read" in profile.allowed() and "clone" not in profile.allowed()
    assert looser_than(profile, compose("default", arch=Arch.X86_64, caps=[])).ok
