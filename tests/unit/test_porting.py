"""x86_64 -> aarch64 porting: the legacy table is complete, consistent and used."""

from __future__ import annotations

import pytest

from seccompose.arch import Arch
from seccompose.errors import InvalidArchError, UnknownSyscallError
from seccompose.porting import legacy_map, port_names
from seccompose.syscalls import table

X86_64 = set(table(Arch.X86_64))
AARCH64 = set(table(Arch.AARCH64))
ARCH_ONLY = {"arch_prctl", "modify_ldt", "iopl", "ioperm"}


def test_every_x86_64_name_missing_on_aarch64_is_mapped_or_dropped_with_a_note() -> None:
    missing = X86_64 - AARCH64
    assert missing, "the tables changed: aarch64 now has every x86_64 syscall?"
    assert missing == set(legacy_map()), "legacy.tsv must list exactly the x86_64 names aarch64 lacks"
    for entry in legacy_map().values():
        assert entry.note.strip(), entry.name
        if entry.kind == "map":
            assert entry.replacements, entry.name
        else:
            assert not entry.replacements, entry.name


def test_every_replacement_is_an_aarch64_syscall_the_kernel_implements() -> None:
    aarch64 = table(Arch.AARCH64)
    for entry in legacy_map().values():
        for name in entry.replacements:
            assert name in aarch64, (entry.name, name)
            assert aarch64.implemented(name), (entry.name, name)


@pytest.mark.parametrize(
    ("legacy", "modern"),
    [
        # The pairs the issue names, checked against the data rather than copied from it.
        ("open", "openat"),
        ("stat", "newfstatat"),
        ("lstat", "newfstatat"),
        ("poll", "ppoll"),
        ("select", "pselect6"),
        ("dup2", "dup3"),
        ("pipe", "pipe2"),
        ("epoll_wait", "epoll_pwait"),
        ("epoll_create", "epoll_create1"),
        ("fork", "clone"),
        ("vfork", "clone"),
        ("getdents", "getdents64"),
        ("access", "faccessat"),
        ("mkdir", "mkdirat"),
        ("unlink", "unlinkat"),
        ("rmdir", "unlinkat"),
        ("rename", "renameat2"),
        ("readlink", "readlinkat"),
        ("chmod", "fchmodat"),
        ("chown", "fchownat"),
    ],
)
def test_legacy_call_maps_to_its_modern_equivalent(legacy: str, modern: str) -> None:
    ported = port_names([legacy])
    assert modern in ported.names
    assert legacy not in ported.names
    assert dict(ported.mapped)[legacy]


@pytest.mark.parametrize("name", sorted(ARCH_ONLY))
def test_arch_only_calls_drop_with_a_note(name: str) -> None:
    ported = port_names([name, "read"])
    assert ported.names == ("read",)
    assert [d.name for d in ported.dropped] == [name]
    assert ported.dropped[0].kind == "arch-only"
    assert any(name in line and "dropped" in line for line in ported.notes())


def test_porting_every_x86_64_syscall_gives_only_aarch64_names() -> None:
    ported = port_names(sorted(X86_64))
    assert set(ported.names) <= AARCH64
    # Everything aarch64 has survives: porting never loses a call the target still has.
    assert set(ported.names) == AARCH64 - {n for n in AARCH64 if n not in X86_64}


def test_names_common_to_both_arches_pass_through_unchanged() -> None:
    common = sorted(X86_64 & AARCH64)[:50]
    assert port_names(common).names == tuple(common)
    assert port_names(common).mapped == ()


def test_output_is_sorted_and_deduplicated() -> None:
    assert port_names(["stat", "lstat", "newfstatat", "fstat"]).names == ("fstat", "newfstatat")


def test_unknown_source_name_is_an_error_with_location() -> None:
    with pytest.raises(UnknownSyscallError, match=r"'mmap2' for x86_64 at rules\[0\].names\[1\]"):
        port_names(["read", "mmap2"], location="rules[0].names")


def test_unsupported_arch_pair_is_an_error() -> None:
    with pytest.raises(InvalidArchError):
        port_names(["read"], source=Arch.X86, target=Arch.AARCH64)


def test_aarch64_to_x86_64_is_the_identity() -> None:
    names = sorted(AARCH64)
    assert port_names(names, source=Arch.AARCH64, target=Arch.X86_64).names == tuple(names)
