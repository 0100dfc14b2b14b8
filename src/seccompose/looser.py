"""Is a profile looser than a base? Exactly, per syscall and argument, on every ABI the host runs.

A profile P is *no looser than* a base B when, for every ABI of the host and every syscall
number, each argument vector P lets run B lets run too. That is stronger than comparing
allow lists: a template that allows ``clone`` outright, where Docker's default allows it only
without the ``CLONE_NEW*`` namespace flags, hands a container without CAP_SYS_ADMIN the
unprivileged user namespaces the default withholds; ``socket`` families and ``personality``
values are the same.

Both profiles are read the way runc and crun load them: a rule whose action and errno equal the
default is dropped; two conditions of one rule on the same argument are ORed (runc and crun add
one rule per condition); the first unconditional verdict of a syscall wins, and overrides its
conditional rules; an ABI outside a profile's ``architectures`` (plus the host's own, which
libseccomp always filters) is refused. The argument space of each conditional syscall is held
exactly (:mod:`seccompose._argspace`). ``SCMP_ACT_ALLOW`` and ``SCMP_ACT_LOG`` let a call run;
under P, ``SCMP_ACT_TRACE`` and ``SCMP_ACT_NOTIFY`` count as letting it run too (a tracer or a
seccomp agent decides, not the profile), and a refusal's errno does not matter. Where a syscall
has both conditional allows and conditional refusals that overlap, P is read as allowing the
overlap and B as refusing it, so an answer of "no looser" is never wrong.

On the ABIs libseccomp treats as 32-bit (x86, arm, and x32) only the low 32 bits of each
argument and constant are compared.

>>> from seccompose import Arch, compose
>>> report = looser_than(compose("redis", arch=Arch.X86_64), compose("default", arch=Arch.X86_64))
>>> report.ok
True
>>> from seccompose.profile import Profile
>>> from seccompose.rules import Rule
>>> loose = Profile(architectures=Arch.X86_64.abis, rules=(Rule(("clone", "read", "exit_group")),))
>>> report = looser_than(loose, compose("default", arch=Arch.X86_64, caps=[]), arch=Arch.X86_64)
>>> [(e.abi.value, e.call) for e in report.entries]  # doctest: +NORMALIZE_WHITESPACE
[('x86_64', 'clone(0x20000, 0, 0, 0, 0, 0)'), ('x86', 'clone(0x20000, 0, 0, 0, 0, 0)'),
 ('x32', 'clone(0x20000, 0, 0, 0, 0, 0)')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from seccompose._argspace import FALSE, TRUE, Spaces
from seccompose.actions import Action, describe
from seccompose.arch import Arch
from seccompose.rules import Arg, runtime_groups
from seccompose.syscalls import TABLED_ARCHES, table

if TYPE_CHECKING:
    from seccompose.caps import Capability
    from seccompose.profile import Profile

__all__ = ["Looser", "LooserReport", "looser_than", "looser_than_files"]

_RUNS: Final = frozenset({Action.ALLOW, Action.LOG})
"""Actions that let the call run, whatever else is set up."""
_MAY_RUN: Final = _RUNS | {Action.TRACE, Action.NOTIFY}
"""...and those that let it run when a tracer or a seccomp agent says so."""
_WIDTH: Final = {Arch.X86: 32, Arch.ARM: 32, Arch.X32: 32}
"""ABIs whose arguments libseccomp compares on their low 32 bits (x32 too: measured by the kernel probe,
``seccompose._probe``); the others compare all 64."""
_UNNAMED: Final = "(numbers no table names)"


@dataclass(frozen=True, slots=True)
class Looser:
    """One syscall a profile lets run with arguments the base refuses, on one ABI.

    ``witness`` is the smallest argument vector the profile allows and the base refuses;
    ``profile`` and ``base`` say what each does with that call. ``exception`` is the
    template's reason when it declares the name in ``looserThanDefault``.
    """

    abi: Arch
    name: str
    number: int | None
    witness: tuple[int, ...]
    profile: str
    base: str
    exception: str = ""
    arguments: bool = False
    """Whether argument conditions decide it (on either side): then only some calls of the syscall differ."""

    @property
    def call(self) -> str:
        """The witness as a call, e.g. ``clone(0x20000, 0, 0, 0, 0, 0)``; the name alone if arguments do not matter."""
        if not self.arguments or self.number is None:
            return self.name
        return f"{self.name}({', '.join(hex(v) if v else '0' for v in self.witness)})"

    def to_json(self) -> dict[str, Any]:
        """Return the entry as a JSON-ready dict."""
        out: dict[str, Any] = {
            "abi": self.abi.value,
            "name": self.name,
            "number": self.number,
            "witness": list(self.witness),
            "profile": self.profile,
            "base": self.base,
            "arguments": self.arguments,
        }
        if self.exception:
            out["exception"] = self.exception
        return out


@dataclass(frozen=True, slots=True)
class LooserReport:
    """What a profile allows that a base refuses: ``entries`` fail, ``excepted`` are declared by name."""

    profile_name: str
    base_name: str
    entries: tuple[Looser, ...]
    excepted: tuple[Looser, ...] = ()
    abis: tuple[Arch, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether the profile is no looser than the base (declared exceptions aside)."""
        return not self.entries

    def names(self) -> frozenset[str]:
        """Return the syscall names the profile is looser on (declared exceptions aside)."""
        return frozenset(e.name for e in self.entries)

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (stable order)."""
        return {
            "profile": self.profile_name,
            "base": self.base_name,
            "ok": self.ok,
            "abis": [a.value for a in self.abis],
            "looser": [e.to_json() for e in self.entries],
            "excepted": [e.to_json() for e in self.excepted],
        }

    def format_text(self) -> str:
        """Return the report as text: one line per (syscall, ABIs), with a call the base refuses.

        >>> print(LooserReport("a.json", "default", ()).format_text())
        a.json is no looser than default
        """
        lines = []
        if self.entries:
            lines.append(f"{self.profile_name} allows what {self.base_name} refuses:")
            lines += _grouped(self.entries)
        if self.excepted:
            lines.append(f"allowed beyond {self.base_name} by the template's declared exceptions:")
            lines += _grouped(self.excepted)
        if not self.entries:
            lines.insert(0, f"{self.profile_name} is no looser than {self.base_name}")
        return "\n".join(lines)


def _grouped(entries: Iterable[Looser]) -> list[str]:
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for e in entries:
        groups.setdefault((e.call, e.profile, e.base, e.exception), []).append(e.abi.value)
    lines = []
    for (call, profile, base, exception), abis in groups.items():
        line = f"  {call:<36} {profile}; base: {base}  [{', '.join(abis)}]"
        lines.append(line + (f"\n      reason: {exception}" if exception else ""))
    return lines


class _Reading:
    """One profile on one ABI as the runtime loads it: per syscall number, its rules' spaces."""

    def __init__(self, profile: Profile, abi: Arch, filtered: bool, spaces: Spaces, *, upper: bool) -> None:
        self.abi = abi
        self.filtered = filtered
        self.spaces = spaces
        self.upper = upper
        runs = _MAY_RUN if upper else _RUNS
        self.runs = runs
        self.default_runs = profile.default_action in runs
        self.default = _describe(profile.default_action, profile.default_errno)
        tab = table(abi)
        default_key = (profile.default_action, profile.default_errno)
        self.rules: dict[int, list[tuple[Action, int | None, tuple[Arg, ...]]]] = {}
        for rule in profile.rules:
            if (rule.action, rule.errno) == default_key:
                continue  # runc and crun drop it
            for group in runtime_groups(rule.args):
                for name in rule.names:
                    if name in tab:
                        self.rules.setdefault(tab.number(name), []).append((rule.action, rule.errno, group))

    def space(self, number: int) -> tuple[int, str]:
        """Return the space of argument vectors that run, and what happens to the others (text)."""
        s = self.spaces
        if not self.filtered:
            return FALSE, "not in the profile's architectures (refused)"
        rules = self.rules.get(number)
        if not rules:
            return (TRUE if self.default_runs else FALSE), self.default + " (default)"
        for action, errno, group in rules:
            if not group:  # the first unconditional verdict wins, over every conditional rule too
                return (TRUE if action in self.runs else FALSE), _describe(action, errno)
        allow = refuse = FALSE
        for action, _, group in rules:
            space = s.of_conditions(group)
            if action in self.runs:
                allow = s.join(allow, space)
            else:
                refuse = s.join(refuse, space)
        if self.upper:
            run = s.join(allow, s.negate(refuse)) if self.default_runs else allow
        else:
            run = s.negate(refuse) if self.default_runs else s.minus(allow, refuse)
        others = sorted({_describe(a, e) for a, e, _ in rules if a not in self.runs} | {self.default})
        return run, " or ".join(others)


def _describe(action: Action, errno: int | None) -> str:
    if action in _RUNS:
        return "allowed" if action is Action.ALLOW else "logged and allowed"
    return describe(action, errno)


def _filtered(profile: Profile, host: Arch) -> frozenset[Arch]:
    """The ABIs a profile's filter covers: its architectures, plus the host's own (libseccomp keeps it)."""
    return frozenset((host, *profile.architectures))


def looser_than(
    profile: Profile,
    base: Profile,
    *,
    arch: Arch | None = None,
    exceptions: Mapping[str, str] | None = None,
    profile_name: str = "profile",
    base_name: str = "base",
) -> LooserReport:
    """Return every syscall ``profile`` lets run with arguments ``base`` refuses, per ABI of an ``arch`` host.

    Args:
        profile: the profile to check.
        base: what it must not be looser than (e.g. ``compose("default", ...)`` for the same container).
        arch: the host; None: the profile's first architecture, else the base's, else x86_64.
        exceptions: syscall names the profile may be looser on, each with its reason (a template's
            ``looserThanDefault``); those entries are reported apart and do not fail the check.
        profile_name: how the report names ``profile``.
        base_name: how the report names ``base``.

    >>> from seccompose import compose
    >>> p = compose(arch=Arch.X86_64, allow=["personality"], runtime=None)
    >>> r = looser_than(p, compose("default", arch=Arch.X86_64), exceptions={"personality": "a test"})
    >>> r.ok, sorted({e.name for e in r.excepted})
    (True, ['personality'])
    """
    host = arch or profile.arch or base.arch or Arch.X86_64
    exceptions = dict(exceptions or {})
    filtered_p, filtered_b = _filtered(profile, host), _filtered(base, host)
    entries: list[Looser] = []
    excepted: list[Looser] = []
    abis = tuple(a for a in host.abis if a in TABLED_ARCHES)
    for abi in abis:
        spaces = Spaces(_WIDTH.get(abi, 64))
        p = _Reading(profile, abi, abi in filtered_p, spaces, upper=True)
        b = _Reading(base, abi, abi in filtered_b, spaces, upper=False)
        tab = table(abi)
        names: dict[int, list[str]] = {}
        for name in tab:
            names.setdefault(tab.number(name), []).append(name)
        for number, known in names.items():
            mine, _ = p.space(number)
            if mine == FALSE:
                continue
            theirs, refusal = b.space(number)
            extra = spaces.minus(mine, theirs)
            if extra == FALSE:
                continue
            witness = spaces.witness(extra)
            name = next((n for n in known if n in exceptions), known[0])
            arguments = mine != TRUE or theirs != FALSE
            entry = Looser(abi, name, number, witness, "allowed", refusal, exceptions.get(name, ""), arguments)
            (excepted if entry.exception else entries).append(entry)
        # Numbers no table names: each profile's default action decides them.
        if p.filtered and p.default_runs and not (b.filtered and b.default_runs):
            entries.append(Looser(abi, _UNNAMED, None, (0,) * 6, p.default, b.default))
    return LooserReport(profile_name, base_name, tuple(entries), tuple(excepted), abis)


def looser_than_files(
    spec: str,
    base: str = "default",
    *,
    arch: Arch | None = None,
    caps: Iterable[Capability] | None = None,
    runtime: str | None = "runc,crun",
    no_new_privileges: bool = False,
) -> LooserReport:
    """Check a profile file or template name against a base (a template name or a file) for one container.

    Template names (and conditional Docker profiles) are composed (rendered) for a container with
    ``caps`` (None: Docker's default capabilities) on an ``arch`` host (None: this machine's),
    with the base set of ``runtime`` for ``no_new_privileges``. A template's declared
    ``looserThanDefault`` names are its exceptions when ``base`` is ``default``.

    Raises:
        TemplateNotFoundError, FormatError: an input cannot be read.

    >>> looser_than_files("nginx", "default", arch=Arch.X86_64, caps=[]).ok
    True
    """
    from seccompose._inputs import kind_of, read_document, read_profile
    from seccompose.arch import host_arch

    host = arch or host_arch()
    options: dict[str, Any] = {"arch": host, "runtime": runtime, "caps": caps, "no_new_privileges": no_new_privileges}
    mine = read_profile(spec, **options)
    theirs = read_profile(base, **options)
    exceptions: dict[str, str] = {}
    doc, _ = read_document(spec)
    if kind_of(doc) == "template" and base == "default":
        from seccompose.templates import Template

        exceptions = dict(Template.from_dict(doc).looser_than_default)
    return looser_than(mine, theirs, arch=host, exceptions=exceptions, profile_name=spec, base_name=base)
