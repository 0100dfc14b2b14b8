"""Syscall categories: every name of every table in exactly one of the six groups."""

from __future__ import annotations

import pytest

from seccompose import categories as cat
from seccompose.arch import Arch
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


def test_group_is_the_category_group_except_for_the_runtime_base_set() -> None:
    usual = {c.name: c.group for c in cat.categories()}
    moved = sorted(name for name, group, category in _rows() if group != usual[category])
    assert all(cat.group_of(n) == "initialization" for n in moved)
    # the runtime base set measured in issue 4 (runc 1.1.5 / crun 1.8.1, noNewPrivileges true and false)
    runc = "close execve fstatfs getdents64 openat rt_sigreturn write"
    runc_nnp_false = "capget capset chdir fstat futex getcwd getppid getuid newfstatat prctl read setgid setgroups setuid"
    crun_nnp_false = "capset prctl rt_sigaction rt_sigprocmask setresgid setresuid write"
    base = set(f"{runc} {runc_nnp_false} execve {crun_nnp_false}".split())
    assert set(cat.syscalls_in("initialization")) == base


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
    assert "_llseek" not in cat.syscalls_in("file-io", Arch.AARCH64)


def test_unknown_names_are_errors_with_a_hint() -> None:
    with pytest.raises(UnknownCategoryError, match=r"'signal'.*did you mean 'signals'"):
        cat.syscalls_in("signal")
    with pytest.raises(UnknownSyscallError, match="did you mean 'openat'"):
        cat.group_of("opnat")
    with pytest.raises(LookupError):  # the builtin it refines
        cat.category_of("nope_nope")
