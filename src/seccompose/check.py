"""Prove a profile against the real libseccomp, the way runc and crun load it.

A profile that parses is not yet a profile that works. :func:`check` compiles an OCI
``linux.seccomp`` object with the system's ``libseccomp.so.2`` (through the
``pyseccomp`` ctypes binding, the optional extra ``seccompose[check]``) and reports
what the runtime would silently change:

- names libseccomp cannot resolve on an architecture of the profile (runc and crun
  skip them without an error, so an allow never happens and a deny never applies);
- rules whose action and errno equal the default action (runc and crun skip them, so a
  deny meant to override another rule is a no-op);
- rules libseccomp refuses (the container would not start) or merges;
- the size of the BPF program the kernel receives (a problem past the kernel's 4,096 instructions).

:func:`run_under` and :func:`popen_under` run a command under a profile: fork, load the
filter in the child (with ``no_new_privs``), exec. The reading follows runc's
``libcontainer/seccomp`` and crun's ``seccomp.c``: repeated argument indexes within one
rule turn every condition into its own rule (OR), and for ``SCMP_CMP_MASKED_EQ``
``value`` is the mask and ``valueTwo`` the datum.

>>> report = check({"defaultAction": "SCMP_ACT_ERRNO",
...                 "architectures": ["SCMP_ARCH_X86_64"],
...                 "syscalls": [{"names": ["read", "opnat"], "action": "SCMP_ACT_ALLOW"}]})
>>> report.ok
False
>>> print(report.problems[0].message)
unknown syscall 'opnat': libseccomp ... does not know it and it is in none of seccompose's kernel tables
(x86_64, aarch64, x86, x32); runc and crun skip it; did you mean 'openat'?
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from seccompose.actions import Action, describe
from seccompose.arch import Arch
from seccompose.errors import (
    did_you_mean,
)
from seccompose.libseccomp import (
    NR_SCMP_ERROR,
    PNR_BASE,
    X32_BIT,
    arch_token,
    build_filter,
    compile_bpf,
    libseccomp_version,
    native_arch,
    resolve_syscall,
)
from seccompose.reading import (
    BPF_MAXINSNS,
    MAX_CONDITIONAL_RULES,
    OPERATORS,
    SOCKETCALL_NAMES,
    UNFILTERABLE,
    Condition,
    Finding,
    LoadedRule,
    RuntimeReading,
    Severity,
    extract_seccomp,
    read_as_runtime,
    rule_key,
)
from seccompose.runner import popen_under, run_under
from seccompose.syscalls import TABLED_ARCHES, all_names, table

__all__ = [
    "OPERATORS",
    "UNFILTERABLE",
    "CheckReport",
    "Condition",
    "Finding",
    "LoadedRule",
    "RuntimeReading",
    "Severity",
    "check",
    "compile_bpf",
    "extract_seccomp",
    "libseccomp_version",
    "popen_under",
    "read_as_runtime",
    "run_under",
]


@dataclasses.dataclass(frozen=True, slots=True)
class CheckReport:
    """What :func:`check` found. ``ok`` is True when there is no problem (notes are fine)."""

    source: str
    libseccomp: str
    native: Arch
    architectures: tuple[Arch, ...]
    bpf_instructions: int
    rules_loaded: int
    findings: tuple[Finding, ...]
    unresolved: tuple[tuple[str, tuple[str, ...]], ...]
    """Per arch (libseccomp name), the names libseccomp cannot resolve there although the kernel has them."""

    @property
    def problems(self) -> tuple[Finding, ...]:
        """The findings that make the check fail."""
        return tuple(f for f in self.findings if f.severity == "problem")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that fail the check only with ``strict``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """Whether the runtime loads what the profile says (warnings are fine: they fail closed)."""
        return not self.problems

    def failed(self, *, strict: bool = False) -> bool:
        """Whether the check fails: any problem, or (``strict``) any warning.

        >>> CheckReport("p", "2.5.4", Arch.X86_64, (), 0, 0, (Finding("warning", "unresolved", "m"),), ()).failed()
        False
        """
        return bool(self.problems or (strict and self.warnings))

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "source": self.source,
            "ok": self.ok,
            "warnings": len(self.warnings),
            "libseccomp": self.libseccomp,
            "native": self.native.value,
            "architectures": [a.value for a in self.architectures],
            "bpfInstructions": self.bpf_instructions,
            "rulesLoaded": self.rules_loaded,
            "unresolved": {arch: list(names) for arch, names in self.unresolved},
            "findings": [f.to_json() for f in self.findings],
        }

    def format_text(self) -> str:
        """Return a human-readable report."""
        arches = ", ".join(a.value for a in self.architectures) or "(native only)"
        verdict = "PROBLEMS" if not self.ok else f"OK with {len(self.warnings)} warning(s)" if self.warnings else "OK"
        lines = [
            f"{self.source}: {verdict}",
            f"  libseccomp {self.libseccomp}, native {self.native.value}, architectures: {arches}",
            (
                f"  BPF program: {self.bpf_instructions} instructions (kernel limit 4096), "
                f"{self.rules_loaded} rules loaded"
            ),
        ]
        for severity in ("problem", "warning", "note"):
            for f in self.findings:
                if f.severity == severity:
                    where = f" [{f.location}]" if f.location else ""
                    lines.append(f"  {severity}: {f.message}{where}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- check


def check(
    oci_seccomp: Mapping[str, Any],
    *,
    source: str = "<profile>",
    accept_unresolved: bool = False,
    runtime: str | None = None,
    no_new_privileges: bool = False,
) -> CheckReport:
    """Compile a profile with the real libseccomp and report where the runtime departs from it.

    Args:
        oci_seccomp: an OCI ``linux.seccomp`` object (see :func:`extract_seccomp`).
        source: how to name the profile in the report.
        accept_unresolved: report rules for names this libseccomp cannot resolve (newer
            syscalls, which then stay refused) as notes instead of warnings. Skipped denies
            under an allowing default, which make the profile more permissive, stay problems.
        runtime: the OCI runtimes that start the container (``"runc"``, ``"crun"``, both
            comma-separated): the syscalls they make after loading the filter that the profile
            refuses are a problem (``runtime-cannot-start``). None: not checked (the CLI checks
            for runc, as Docker runs containers).
        no_new_privileges: the container's ``noNewPrivileges`` (default False, as Docker, Podman
            and Kubernetes run containers), which decides the runtime's base set.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed (and other ``SeccomposeError`` subclasses).

    >>> r = check({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    ...            "architectures": ["SCMP_ARCH_X86_64"],
    ...            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
    ...                         {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})
    >>> [f.kind for f in r.problems], r.bpf_instructions > 0
    (['default-action-rule'], True)
    """
    reading = read_as_runtime(oci_seccomp, source=source)
    native = native_arch()
    findings = list(reading.findings)
    arches = reading.architectures or (native,)
    # libseccomp always keeps the native arch, so on a host of one of the profile's arches the
    # filter is native + listed. A profile for another host (aarch64 checked on x86_64) is
    # checked as that host builds it: its own arches only.
    foreign = native not in arches
    filtered = arches if foreign else tuple(dict.fromkeys((native, *arches)))
    findings += [
        Finding(
            "problem",
            "unsupported-arch",
            f"libseccomp {libseccomp_version()} cannot filter {arch.value}; runc refuses the profile",
            arch=arch.value,
        )
        for arch in arches
        if arch_token(arch) is None
    ]
    findings += _skipped_findings(reading)
    unresolved, name_findings = _resolution(reading, filtered, accept_unresolved=accept_unresolved)
    findings += name_findings
    findings += _conflicts(reading)
    findings += _unfilterable(reading, filtered)
    findings += _socketcall(reading, filtered)
    findings += _order(reading, filtered)
    conditional = len({(r.name, r.action, r.errno, r.conditions) for r in reading.rules if r.conditions})
    if conditional > MAX_CONDITIONAL_RULES:
        # libseccomp's time to add a rule grows with the rules a syscall already has (32,000 take
        # half a minute), and so many could never load: each needs at least one BPF comparison.
        bpf, added = b"", 0
        findings.append(
            Finding(
                "problem",
                "too-many-rules",
                f"{conditional:,} distinct conditional rules need at least as many BPF instructions, over the "
                f"kernel's limit of {BPF_MAXINSNS:,}: runc and crun fail to load the filter; not compiled",
            )
        )
    else:
        bpf, added, build_findings = build_filter(reading, drop_native=foreign)
        findings += build_findings
    if len(bpf) // 8 > BPF_MAXINSNS:
        findings.append(
            Finding(
                "problem",
                "too-long",
                f"the BPF program is {len(bpf) // 8:,} instructions, over the kernel's limit of {BPF_MAXINSNS:,} "
                "(BPF_MAXINSNS): seccomp(2) refuses it with EINVAL and the container does not start; merge rules, "
                "drop argument conditions or architectures",
            )
        )
    findings += _runtime_start(reading, runtime, no_new_privileges, arches[0] if foreign else native)
    findings += _enosys_stub(reading, filtered)
    if foreign:
        findings.append(
            Finding(
                "note",
                "foreign-arch",
                f"checked for a {arches[0].value} host; on this {native.value} host runc would also apply the "
                f"rules to {native.value}, the native arch libseccomp always keeps",
            )
        )
    return CheckReport(
        source=source,
        libseccomp=libseccomp_version(),
        native=native,
        architectures=reading.architectures,
        bpf_instructions=len(bpf) // 8,
        rules_loaded=added,
        findings=tuple(findings),
        unresolved=unresolved,
    )


def _runtime_start(reading: RuntimeReading, runtime: str | None, nnp: bool, arch: Arch) -> Iterator[Finding]:
    """The runtime's measured base set against what the filter lets run (the first unconditional verdict)."""
    if runtime is None:
        return
    from seccompose.runtime import describe_start, refused_at_start

    def allows(name: str) -> bool:
        for rule in reading.rules:
            if rule.name == name and not rule.conditions:
                return rule.action.allows
        return reading.default_action.allows

    refused = refused_at_start(allows, runtime, no_new_privileges=nnp, arch=arch)
    if refused:
        yield Finding(
            "problem",
            "runtime-cannot-start",
            f"{', '.join(refused)} refused: {describe_start(runtime, nnp)} makes "
            f"{'them' if len(refused) > 1 else 'it'} after loading the filter, so the container does not start; "
            "allow them (seccompose compose adds them) or say which runtime and mode with --runtime and "
            "--no-new-privileges",
            names=refused,
        )


def _skipped_findings(reading: RuntimeReading) -> Iterator[Finding]:
    actions = _rule_actions(reading)
    default = describe(reading.default_action, reading.default_errno)
    for rule in reading.skipped:
        effect = (
            f"another rule for {rule.name!r} ({actions[rule.name]}) then applies unopposed"
            if rule.name in actions
            else "it has no effect"
        )
        yield Finding(
            "problem",
            "default-action-rule",
            f"the rule for {rule.name!r} has the default action {default}: runc and crun skip it, so {effect}; "
            "give the deny another errno or drop it",
            location=rule.location,
            names=(rule.name,),
        )


def _rule_actions(reading: RuntimeReading) -> dict[str, str]:
    """Per name, what the rules for it do (``SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(EPERM)``), in one pass."""
    seen: dict[str, set[str]] = {}
    for r in reading.rules:
        seen.setdefault(r.name, set()).add(describe(r.action, r.errno))
    return {name: ", ".join(sorted(described)) for name, described in seen.items()}


def _resolution(
    reading: RuntimeReading, arches: Sequence[Arch], *, accept_unresolved: bool
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], list[Finding]]:
    names = {r.name: r.location for r in reading.rules}
    names.update({r.name: r.location for r in reading.skipped if r.name not in names})
    version = libseccomp_version()
    findings: list[Finding] = []
    per_arch: dict[str, list[str]] = {}
    for name, location in sorted(names.items()):
        if resolve_syscall(None, name) == NR_SCMP_ERROR and name not in all_names():
            hint = did_you_mean(name, all_names())
            findings.append(
                Finding(
                    "problem",
                    "unknown-syscall",
                    f"unknown syscall {name!r}: libseccomp {version} does not know it and it is in none of "
                    f"seccompose's kernel tables (x86_64, aarch64, x86, x32); runc and crun skip it{hint}",
                    location=location,
                    names=(name,),
                )
            )
            continue
        for arch in arches:
            if arch_token(arch) is None:
                continue
            number = resolve_syscall(arch, name)
            kernel = table(arch).number(name) if arch in TABLED_ARCHES and name in table(arch) else None
            if kernel is None:
                continue  # not a syscall of this ABI: the default action applies, as intended
            if number == NR_SCMP_ERROR or number <= PNR_BASE:
                if UNFILTERABLE.get(arch, {}).get(name) == kernel:
                    continue  # seccomp never sees it on this ABI; reported as unfilterable
                per_arch.setdefault(arch.value, []).append(name)
            elif number >= 0 and number != kernel:
                findings.append(
                    Finding(
                        "problem",
                        "number-mismatch",
                        f"libseccomp {version} numbers {name!r} {number & ~X32_BIT} on {arch.value}, "
                        f"the kernel table {kernel & ~X32_BIT}; the filter would guard the wrong syscall",
                        location=location,
                        arch=arch.value,
                        names=(name,),
                    )
                )
    for arch_name, missing in per_arch.items():
        findings += _unresolved(reading, Arch(arch_name), missing, accept_unresolved=accept_unresolved)
    return tuple((a, tuple(n)) for a, n in sorted(per_arch.items())), findings


def _unresolved(reading: RuntimeReading, arch: Arch, missing: list[str], *, accept_unresolved: bool) -> list[Finding]:
    default = describe(reading.default_action, reading.default_errno)
    # A skipped deny under an allowing default is a hole; anything else only changes how a call is refused.
    holes = [n for n in missing if reading.default_action.allows]
    refused = [n for n in missing if n not in holes]
    hint = (
        "" if accept_unresolved else " (a warning: it fails closed; --strict fails on it, --accept-unresolved notes it)"
    )
    out = []
    severity: Severity
    for names, severity, effect in (
        (holes, "problem", f"so the default action {default} applies to them instead: more permissive than written"),
        (
            refused,
            "note" if accept_unresolved else "warning",
            f"so the default action {default} applies to them instead, which still refuses them{hint}",
        ),
    ):
        if not names:
            continue
        actions = _rule_actions(reading)
        listed = ", ".join(
            f"{n} ({table(arch).number(n) & ~X32_BIT}: {actions.get(n) or 'skipped'})" for n in names
        )
        out.append(
            Finding(
                severity,
                "unresolved",
                f"libseccomp {libseccomp_version()} cannot resolve {len(names)} name(s) the kernel has on "
                f"{arch.value}: {listed}; runc and crun skip these rules silently, {effect}; "
                "use a newer libseccomp",
                arch=arch.value,
                names=tuple(names),
            )
        )
    return out


def _conflicts(reading: RuntimeReading) -> Iterator[Finding]:
    first: dict[str, LoadedRule] = {}
    for rule in reading.rules:
        if rule.conditions:
            continue
        seen = first.get(rule.name)
        if seen is None:
            first[rule.name] = rule
        elif rule_key(seen.action, seen.errno) != rule_key(rule.action, rule.errno):
            yield Finding(
                "problem",
                "conflict",
                f"{rule.name!r} has two unconditional rules, {describe(seen.action, seen.errno)} at "
                f"{seen.location} and {describe(rule.action, rule.errno)}; libseccomp keeps the first and "
                "drops the second silently; keep one",
                location=rule.location,
                names=(rule.name,),
            )


def _unfilterable(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    for arch in arches:
        for name, number in UNFILTERABLE.get(arch, {}).items():
            explicit = [r for r in reading.rules if r.name == name and not r.action.allows]
            yield Finding(
                "problem" if explicit else "note",
                "unfilterable",
                f"{name} ({number}) on {arch.value} passes seccomp unfiltered (Linux >= 6.11); "
                + (
                    "this profile's deny cannot take effect"
                    if explicit
                    else "it is harmless outside a uprobe trampoline (SIGILL) and no profile can deny it"
                ),
                location=explicit[0].location if explicit else None,
                arch=arch.value,
                names=(name,),
            )


def _socketcall(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    if Arch.X86 not in arches:
        return
    names = sorted({r.name for r in reading.rules if r.conditions and r.name in SOCKETCALL_NAMES})
    if names:
        yield Finding(
            "note",
            "socketcall",
            "on x86 (i386), libseccomp also adds these rules to socketcall(2), where the arguments are in "
            f"memory and cannot be checked, so their argument conditions do not apply there: {', '.join(names)}",
            arch=Arch.X86.value,
            names=tuple(names),
        )


def _order(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    if not {Arch.X86, Arch.X32} & set(arches):
        return
    seen_allow: set[str] = set()
    for rule in reading.rules:
        if not rule.conditions:
            continue
        if rule.action.allows:
            seen_allow.add(rule.name)
        elif rule.name in seen_allow:
            seen_allow.discard(rule.name)
            yield Finding(
                "note",
                "rule-order",
                f"a conditional {describe(rule.action, rule.errno)} rule for {rule.name!r} follows a conditional "
                "allow for it: on x86 and x32 libseccomp 2.5 merges overlapping conditions in the order they "
                "are added, and the later deny can lose (measured with Podman's socket rules); put the deny "
                "first and verify with 'seccompose check --probe'",
                location=rule.location,
                names=(rule.name,),
            )


def _enosys_stub(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    if reading.default_action in (Action.ALLOW, Action.LOG, Action.TRACE):
        return
    parts = []
    for arch in arches:
        if arch_token(arch) is None:
            continue
        # runc's findLastSyscalls: the largest number libseccomp resolves on the arch
        numbers = [n for n in (resolve_syscall(arch, name) for name in {r.name: None for r in reading.rules}) if n >= 0]
        if numbers:
            parts.append(f"{arch.value} > {max(numbers) & ~X32_BIT}")
    if parts:
        yield Finding(
            "note",
            "enosys-stub",
            "runc (not crun) returns ENOSYS instead of the default action for syscall numbers above the highest "
            f"one the profile names: {', '.join(parts)}",
        )


