"""Syscall categories: every name of every table in exactly one of the six groups."""

from __future__ import annotations

import json

import pytest

from seccompose import categories as cat
from seccompose.arch import Arch
from seccompose.cli import main
from seccompose.errors import UnknownCategoryError, UnknownSyscallError
from seccompose.syscalls import TABLED_ARCHES, all_names, table


def _rows() -> list[list[str]]:
    return cat._read("syscalls.tsv")


def test_every_name_of_every_table_is_in_exactly_one_of_the_six_groups() -> None:
    counts: dict[str, list[str]] = {}
    for name, group, _ in _rows():
        counts.setdefault(name, []).append(group)
    for arch in TABLED_ARCHES:
        for name in table(arch):
            assert name in counts, f"{name} ({arch.value}) has no category"
            assert len(counts[name]) == 1, f"{name} is listed {len(counts[name])} times"
            assert counts[name][0] in cat.GROUPS, f"{name}: {counts[name][0]!r} is not one of the six groups"
    # and nothing that no table has (a typo in the data would hide here)
    assert set(counts) == set(all_names())


def test_the_six_groups_partition_every_table() -> None:
    for arch in TABLED_ARCHES:
        parts = [set(cat.syscalls_in(g, arch)) for g in cat.GROUPS]
        union: set[str] = set().union(*parts)
        assert sum(len(p) for p in parts) == len(union)  # disjoint
        assert set(table(arch)) <= union  # covering


def test_every_category_is_known_and_used() -> None:
    names = {c.name for c in cat.categories()}
    used = {category for _, _, category in _rows()}
    assert used == names
    assert {c.group for c in cat.categories()} <= set(cat.GROUPS)
    assert [g.name for g in cat.groups()] == list(cat.GROUPS)


def test_the_data_writes_each_name_in_its_categorys_group() -> None:
    usual = {c.name: c.group for c in cat.categories()}
    assert all(group == usual[category] for _, group, category in _rows())
    assert all(group != "initialization" for _, group, _ in _rows())  # that group comes from data/runtime


def test_initialization_is_the_runtime_base_set() -> None:
    from seccompose.runtime import RUNTIMES, runtime_base

    base = {
        name
        for runtime in RUNTIMES
        for nnp in (True, False)
        for arch in (Arch.X86_64, Arch.AARCH64)
        for name in runtime_base(runtime, no_new_privileges=nnp, arch=arch)
    }
    assert set(cat.syscalls_in("initialization")) == base
    # measured in issue 4 (runc 1.1.5, crun 1.8.1): the calls every runtime makes before exec
    assert {"execve", "close", "openat", "write", "rt_sigreturn", "capset", "prctl"} <= base
    for name in base:  # they keep their finer category
        assert cat.category_of(name) in {c.name for c in cat.categories()}


@pytest.mark.parametrize(
    ("name", "group", "category"),
    [
        ("socket", "interprocess-communication", "network"),
        ("accept4", "interprocess-communication", "network"),
        ("kill", "interprocess-communication", "signals"),
        ("mmap", "memory-management", "memory-mapping"),
        ("mount", "file-system", "mounts"),
        ("unshare", "process-management", "namespaces"),
        ("setuid", "initialization", "credentials"),  # runc's base set calls it with noNewPrivileges false
        ("setreuid", "process-management", "credentials"),
        ("io_uring_setup", "file-system", "async-io"),
        ("init_module", "other", "kernel-modules"),
        ("clock_gettime", "other", "time"),
        ("_llseek", "file-system", "file-io"),  # i386-only name
        ("afs_syscall", "other", "obsolete"),  # a number with no entry point
    ],
)
def test_known_assignments(name: str, group: str, category: str) -> None:
    assert (cat.group_of(name), cat.category_of(name)) == (group, category)


def test_syscalls_in_accepts_groups_and_categories_in_any_spelling() -> None:
    assert cat.syscalls_in("File System") == cat.syscalls_in("file-system")
    assert "mount" in cat.syscalls_in("mounts")
    assert "_llseek" in cat.syscalls_in("file-io", Arch.X86_64)
    assert "_llseek" in cat.syscalls_in("file-io", Arch.AARCH64)  # its 32-bit arm ABI has it
    assert "arch_prctl" in cat.syscalls_in("process-lifecycle", Arch.X86_64)
    assert "arch_prctl" not in cat.syscalls_in("process-lifecycle", Arch.AARCH64)


def test_unknown_names_are_errors_with_a_hint() -> None:
    with pytest.raises(UnknownCategoryError, match=r"'signal'.*did you mean 'signals'"):
        cat.syscalls_in("signal")
    with pytest.raises(UnknownSyscallError, match="did you mean 'openat'"):
        cat.group_of("opnat")
    with pytest.raises(LookupError):  # the builtin it refines
        cat.category_of("nope_nope")


# -- the `syscalls` CLI -----------------------------------------------------------------------


def test_cli_looks_up_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syscalls", "openat", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # numbers from the kernel's tables (arch/x86/entry/syscalls/*.tbl, scripts/syscall.tbl) and
    # libseccomp's arm column (arch/arm/tools/syscall.tbl)
    assert {a["abi"]: a["number"] for a in doc["abis"]} == {
        "x86_64": 257,
        "aarch64": 56,
        "x86": 295,
        "x32": 0x40000000 + 257,
        "arm": 322,
    }
    assert doc["category"] == "file-io"


def test_cli_looks_up_a_number_per_abi(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syscalls", "56", "--arch", "aarch64"]) == 0
    assert capsys.readouterr().out.startswith("openat:")
    assert main(["syscalls", "56", "--arch", "x86_64"]) == 0
    assert capsys.readouterr().out.startswith("clone:")


def test_cli_shows_since_and_capabilities(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syscalls", "mount"]) == 0
    out = capsys.readouterr().out
    assert "capability map docker: CAP_SYS_ADMIN" in out
    assert main(["syscalls", "listns", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {a["since"] for a in doc["abis"]} == {"6.18"}


def test_cli_lists_a_category_on_an_abi(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syscalls", "--category", "namespaces", "--arch", "x86_64", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(s["number"], s["name"]) for s in doc["syscalls"]] == [(272, "unshare"), (308, "setns"), (470, "listns")]


def test_cli_lists_an_abi(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syscalls", "--arch", "x86", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["syscalls"]) == len(table(Arch.X86))


def test_cli_lists_the_categories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syscalls", "--category", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [g["name"] for g in doc["groups"]] == list(cat.GROUPS)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["syscalls", "opnat"], "unknown syscall 'opnat' at NAME; did you mean 'openat'?"),
        (["syscalls", "999", "--arch", "aarch64"], "unknown syscall '999' for aarch64"),
        (["syscalls", "--category", "netwrk"], "did you mean 'network'?"),
        (["syscalls", "--arch", "mips"], "unknown architecture 'mips' at --arch"),  # no table for mips
    ],
)
def test_cli_errors_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err
