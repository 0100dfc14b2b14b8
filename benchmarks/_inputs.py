"""Varied inputs for the compose benchmarks: capability sets, allow/deny lists and bases.

Every input is drawn from seccompose's own tables (capabilities, the host's syscall
names, the shipped templates), the way a runtime integration would see containers:
mostly Docker's default capabilities with a few added or dropped, sometimes none,
sometimes an arbitrary subset; a few allowed and denied syscalls.
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass
from typing import Final

from seccompose import Arch, Template
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, all_capabilities
from seccompose.loader import load_template, template_names
from seccompose.syscallset import universe

__all__ = ["Case", "CaseMaker", "app_template", "runtime_name"]

_DOCKER: Final = sorted(c.name for c in DOCKER_DEFAULT_CAPABILITIES)
_ALL: Final = sorted(c.name for c in all_capabilities())

# The syscalls of the benchmark's strace log: an nginx-like server, as `learn` would record it.
_APP_NAMES: Final = (
    "accept4", "access", "arch_prctl", "bind", "brk", "clock_gettime", "clone3", "close", "connect",
    "epoll_create1", "epoll_ctl", "epoll_wait", "execve", "exit", "exit_group", "fcntl", "futex",
    "getdents64", "getpid", "getrandom", "getsockname", "ioctl", "listen", "lseek", "madvise", "mmap",
    "mprotect", "munmap", "nanosleep", "newfstatat", "openat", "poll", "prctl", "pread64", "prlimit64",
    "read", "recvfrom", "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sched_yield",
    "sendfile", "sendto", "set_robust_list", "set_tid_address", "setsockopt", "shutdown", "socket",
    "statx", "write", "writev",
)  # fmt: skip


def runtime_name() -> str | None:
    """Return ``"runc"`` when seccompose knows runtime base sets (``seccompose.runtime``), else None."""
    return "runc" if importlib.util.find_spec("seccompose.runtime") is not None else None


def app_template() -> Template:
    """Return an app template like one ``seccompose learn`` writes for an nginx-like server."""
    return Template.from_dict(
        {
            "schema": 1,
            "name": "bench-app",
            "description": "nginx-like server, as learned from the benchmark's strace log",
            "rules": [
                {"names": list(_APP_NAMES), "arches": ["x86_64"], "comment": "learned"},
                {
                    "names": [n for n in _APP_NAMES if n not in ("access", "arch_prctl", "poll")],
                    "arches": ["aarch64"],
                    "comment": "ported",
                },
                {
                    "names": ["clone"],
                    "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
                    "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                    "comment": "threads, not namespaces",
                },
            ],
        }
    )


@dataclass(frozen=True, slots=True)
class Case:
    """One composition: the base, the container's capabilities, its allow and deny lists."""

    base: str | Template
    caps: tuple[str, ...]
    allow: tuple[str, ...]
    deny: tuple[str, ...]


class CaseMaker:
    """Draws varied cases from the tables with a seeded generator."""

    def __init__(self, arch: Arch, seed: int, bases: tuple[str | Template, ...]) -> None:
        self.rng = random.Random(seed)
        self.names = universe(arch).names
        self.bases = bases

    def caps(self) -> tuple[str, ...]:
        """Return a capability set the way containers get them (``CAP_*`` strings)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:  # docker's defaults, a few dropped, a few added
            caps = set(_DOCKER)
            caps -= set(rng.sample(_DOCKER, rng.randrange(4)))
            caps |= set(rng.sample(_ALL, rng.randrange(3)))
        elif roll < 0.85:  # --cap-drop ALL --cap-add a few
            caps = set(rng.sample(_ALL, rng.randrange(4)))
        else:  # anything
            caps = set(rng.sample(_ALL, rng.randrange(len(_ALL) + 1)))
        return tuple(sorted(caps))

    def case(self, base: str | Template | None = None) -> Case:
        """Return one random case (on ``base``, or a base drawn from the maker's)."""
        rng = self.rng
        return Case(
            base if base is not None else rng.choice(self.bases),
            self.caps(),
            tuple(rng.sample(self.names, rng.randrange(5))),
            tuple(rng.sample(self.names, rng.randrange(4))),
        )

    def cases(self, n: int, base: str | Template | None = None) -> list[Case]:
        """Return ``n`` cases, no two consecutive ones equal."""
        out: list[Case] = []
        while len(out) < n:
            c = self.case(base)
            if not out or c != out[-1]:
                out.append(c)
        return out

    def distinct(self, i: int) -> Case:
        """Return case number ``i``: distinct for every ``i`` below len(names)**2 (its allow list encodes ``i``)."""
        names = self.names
        k = len(names)
        first, rest = names[i % k], names[(i // k) % k]
        return Case(
            self.rng.choice(self.bases),
            self.caps(),
            (first, rest),
            tuple(self.rng.sample(names, self.rng.randrange(3))),
        )


def shipped_bases() -> tuple[str | Template, ...]:
    """Return the bases the mixed benchmark draws from: every shipped template and an app template."""
    names = template_names()
    for name in names:
        load_template(name)  # read once, outside the timed loop, as a long-running service would
    return (*names, app_template())
