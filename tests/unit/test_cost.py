"""seccompose.cost: runc's program and what the kernel caches of a profile (libseccomp compiles; no kernel needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seccompose import Arch
from seccompose.bpf import SECCOMP_RET_ERRNO, Program, SeccompData
from seccompose.cli import main

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

from seccompose.check import compile_bpf
from seccompose.cost import cost, runc_program, runc_stub

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "reference" / "profiles"
ABIS = ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
X86_64, I386 = 0xC000003E, 0x40000003
ENOSYS = SECCOMP_RET_ERRNO | 38


def profile(
    *rules: dict[str, Any], default: str = "SCMP_ACT_ERRNO", errno: int | None = 1, arches: tuple[str, ...] = ABIS
) -> dict[str, Any]:
    out: dict[str, Any] = {"defaultAction": default, "architectures": list(arches), "syscalls": list(rules)}
    if errno is not None:
        out["defaultErrnoRet"] = errno
    return out


def docker_default() -> dict[str, Any]:
    from seccompose.render import render

    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text(encoding="utf-8"))
    return render(doc, engine="docker", arch=Arch.X86_64, kernel="6.18")


# --------------------------------------------------------------------------- runc's ENOSYS stub


def test_the_stub_returns_enosys_above_the_highest_number_and_hands_the_rest_to_the_filter() -> None:
    p = profile({"names": ["read", "getppid"], "action": "SCMP_ACT_ALLOW"})  # getppid: 110 on x86_64, 64 on i386
    program = Program.from_bytes(runc_program(p))
    stub = len(runc_stub(p)) // 8

    def run(nr: int, arch: int) -> tuple[int, int]:
        out = program.run(SeccompData(nr, arch))
        return out.value, out.executed

    assert run(111, X86_64)[0] == ENOSYS  # above x86_64's 110
    assert run(65, I386)[0] == ENOSYS  # above i386's 64
    assert run(0x40000000 | 111, X86_64)[0] == ENOSYS  # x32 numbers carry bit 30
    assert run(110, X86_64)[0] != ENOSYS
    assert run(109, X86_64)[0] == SECCOMP_RET_ERRNO | 1  # the filter's default, not the stub's ENOSYS
    # the stub loads only the arch and the number: it never makes a call uncacheable
    assert program.const(110, X86_64).allows
    assert stub == 14


@pytest.mark.parametrize(
    ("default", "errno"),
    [("SCMP_ACT_ALLOW", None), ("SCMP_ACT_LOG", None), ("SCMP_ACT_TRACE", 1), ("SCMP_ACT_ERRNO", 38)],
)
def test_no_stub_when_the_default_lets_calls_run_or_already_says_enosys(default: str, errno: int | None) -> None:
    p = profile({"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"}, default=default, errno=errno)
    assert runc_stub(p) == b""
    assert runc_program(p) == compile_bpf(p)


def test_one_arch_stub_for_x86_64_skips_x32_numbers() -> None:
    p = profile({"names": ["getppid"], "action": "SCMP_ACT_ALLOW"}, arches=("SCMP_ARCH_X86_64",))
    program = Program.from_bytes(runc_stub(p) + compile_bpf(p))
    # x32 is not in the profile: its numbers are not stubbed, the filter's bad-arch action decides
    assert program.run(SeccompData(0x40000000 | 500, X86_64)).value != ENOSYS
    assert program.run(SeccompData(500, X86_64)).value == ENOSYS


# --------------------------------------------------------------------------- what the kernel caches


def test_cost_report_of_a_small_profile() -> None:
    p = profile(
        {"names": ["read", "write", "getppid"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
        {"names": ["kill"], "action": "SCMP_ACT_LOG"},
        {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
    )
    report = cost(p, layout="linear")
    out = report.to_json()
    assert list(out) == ["instructions", "abis", "worst_case"]
    assert out["instructions"] == len(compile_bpf(p)) // 8
    assert list(out["abis"]) == ["x86_64", "x86", "x32"]
    x86_64 = out["abis"]["x86_64"]
    assert x86_64["cacheable"] == ["getppid", "read", "write"]
    assert x86_64["uncacheable"] == {
        "kill": "SCMP_ACT_LOG: the kernel caches only SCMP_ACT_ALLOW",
        "personality": "arg0 checked by syscalls[1] (allow if arg0 == 8)",
    }  # ptrace: refused whatever its arguments (errno 13 or the default), so not an allowed syscall
    assert out["abis"]["x86"]["cacheable"] == ["getppid", "read", "write"]
    x32 = out["abis"]["x32"]
    assert x32["cacheable"] == []
    assert set(x32["uncacheable"]) == {"getppid", "kill", "personality", "read", "write"}
    assert "bit 30" in x32["uncacheable"]["read"]
    assert isinstance(out["worst_case"], int)
    assert out["worst_case"] == max(a.worst_case for a in report.abis)


def test_worst_case_is_a_path_the_evaluator_really_takes() -> None:
    p = docker_default()
    for layout, binary_tree in (("linear", False), ("tree", True)):
        report = cost(p, layout=layout)  # type: ignore[arg-type]
        program = Program.from_bytes(compile_bpf(p) if binary_tree else _linear(p))
        assert report.instructions == len(program)
        worst = max(report.abis, key=lambda a: a.worst_case)
        # socket(AF_VSOCK + 1 ...) walks every socket rule; some argument value reaches the bound
        reached = max(
            program.run(SeccompData(n, X86_64, args=(a,))).executed
            for n in range(470)
            for a in (0, 38, 39, 40, 41, 0x10, 0xFFFFFFFF, 0x20008, 0x7E020000)
        )
        assert reached <= report.worst_case
        assert worst.abi is Arch.X86_64 or reached < report.worst_case
    assert cost(p, layout="linear").worst_case > 10 * cost(p, layout="tree").worst_case


def _linear(p: dict[str, Any]) -> bytes:
    from seccompose.libseccomp import build_filter
    from seccompose.reading import read_as_runtime

    return build_filter(read_as_runtime(p), binary_tree=False)[0]


def test_docker_default_caches_all_but_its_argument_rules_on_the_native_and_compat_abis() -> None:
    report = cost(docker_default(), layout="tree")
    by_abi = {a.abi: a for a in report.abis}
    for abi in (Arch.X86_64, Arch.X86):
        assert sorted(dict(by_abi[abi].uncacheable)) == ["clone", "personality", "socket"]
        assert "getppid" in by_abi[abi].cacheable
    assert "arg0 & 0x7e020000 == 0x0" in dict(by_abi[Arch.X86_64].uncacheable)["clone"]
    assert by_abi[Arch.X32].cacheable == ()


def test_socketcall_of_a_template_is_uncacheable_on_x86_and_says_why() -> None:
    p = profile({"names": ["read", "socket", "bind", "listen", "accept4"], "action": "SCMP_ACT_ALLOW"})
    x86 = {a.abi: a for a in cost(p).abis}[Arch.X86]
    reasons = dict(x86.uncacheable)
    assert list(reasons) == ["socketcall"]
    assert "arg0, the socket sub-call" in reasons["socketcall"]
    assert "accept4, bind, listen, socket" in reasons["socketcall"]
    assert {"read", "socket", "bind"} <= set(x86.cacheable)  # the direct calls (kernel 4.3+) are cached


def test_the_unfilterable_uprobe_calls_are_not_listed() -> None:
    p = profile({"names": ["read", "uretprobe"], "action": "SCMP_ACT_ALLOW"})
    x86_64 = {a.abi: a for a in cost(p).abis}[Arch.X86_64]
    assert x86_64.cacheable == ("read",)


def test_cli_check_cost_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(docker_default()), encoding="utf-8")
    main(["check", str(path), "--cost", "--layout", "linear", "--accept-unresolved"])
    text = capsys.readouterr().out
    assert "cost: BPF program of 1001 instructions as runc 1.1 and crun build it (libseccomp's default order)" in text
    assert "as runc >= 1.2 builds it: 1246" in text
    assert "x86_64: 298 of 301 allowed syscalls cached by the kernel" in text
    assert "clone: arg0 checked by syscalls[12] (allow if arg0 & 0x7e020000 == 0x0)" in text
    main(["check", str(path), "--cost", "--layout", "tree", "--format", "json", "--accept-unresolved"])
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["cost"]) == {"instructions", "abis", "worst_case"}
    assert doc["cost"]["instructions"] == 1246
    assert set(doc["cost"]["abis"]) == {"x86_64", "x86", "x32"}
    for abi in doc["cost"]["abis"].values():
        assert set(abi) == {"cacheable", "uncacheable"}
        assert all(isinstance(n, str) for n in abi["cacheable"])
        assert all(isinstance(r, str) for r in abi["uncacheable"].values())
    assert doc["cost"]["worst_case"] < 40


def test_cli_cost_lays_the_program_out_as_the_runc_on_path_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil
    import subprocess

    path = tmp_path / "p.json"
    path.write_text(json.dumps(docker_default()), encoding="utf-8")
    main(["check", str(path), "--cost", "--format", "json", "--accept-unresolved"])
    got = json.loads(capsys.readouterr().out)["cost"]["instructions"]
    runc = shutil.which("runc")
    words: list[str] = []
    if runc is not None:
        words = subprocess.run([runc, "--version"], capture_output=True, text=True, check=False).stdout.split()
    old = bool(words) and tuple(int(x) for x in words[2].split("+")[0].split(".")[:2]) < (1, 2)
    assert got == (1001 if old else 1246)


def test_the_docs_table_of_shipped_profiles_is_what_check_cost_says() -> None:
    from seccompose._inputs import read_profile
    from seccompose.formats.oci import to_dict
    from seccompose.loader import template_names

    text = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text(encoding="utf-8")
    section = text.split("## What the shipped profiles cost", 1)[1]
    rows = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| profile")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    profiles = {"Docker's default": docker_default()} | {
        name: to_dict(read_profile(name, arch=Arch.X86_64)) for name in template_names()
    }
    assert set(rows) == set(profiles), "a shipped template is missing from docs/cost.md, or one is gone"
    for name, doc in profiles.items():
        linear, tree = cost(doc, layout="linear"), cost(doc, layout="tree")
        by_abi = {a.abi: a for a in tree.abis}

        def not_cached(abi: Arch, by_abi: dict[Arch, Any] = by_abi) -> str:
            return ", ".join(n for n, _ in by_abi[abi].uncacheable) or "(none)"

        want = [
            f"{linear.instructions}; {tree.instructions}",
            f"{linear.worst_case}; {tree.worst_case}",
            not_cached(Arch.X86_64),
            not_cached(Arch.X86),
        ]
        assert rows[name] == want, f"docs/cost.md's row for {name} is out of date: write {' | '.join(want)}"
        # the layouts cache the same calls
        assert [a.uncacheable for a in linear.abis] == [a.uncacheable for a in tree.abis]


@pytest.mark.parametrize(
    "caps", [(), None, ("CAP_SYS_ADMIN",), ("CAP_SYS_BOOT", "CAP_SYS_PTRACE")], ids=["none", "docker", "admin", "boot"]
)
def test_default_is_no_longer_than_dockers_own_rendering(caps: tuple[str, ...] | None) -> None:
    # The kernel verdicts are the same (tests/property/test_default_equivalence.py probes them); the
    # program must not be longer in either layout.
    from seccompose import compose
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    from seccompose.formats.oci import to_dict
    from seccompose.libseccomp import build_filter
    from seccompose.reading import read_as_runtime
    from seccompose.render import render

    bounding = tuple(c.name for c in DOCKER_DEFAULT_CAPABILITIES) if caps is None else caps
    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text(encoding="utf-8"))
    docker = read_as_runtime(render(doc, engine="docker", arch=Arch.X86_64, caps=bounding, kernel="6.18"))
    mine = read_as_runtime(to_dict(compose("default", arch=Arch.X86_64, caps=bounding, runtime=None)))
    for binary_tree in (False, None):
        ours, theirs = build_filter(mine, binary_tree=binary_tree)[0], build_filter(docker, binary_tree=binary_tree)[0]
        assert len(ours) <= len(theirs), (binary_tree, len(ours) // 8, len(theirs) // 8)
