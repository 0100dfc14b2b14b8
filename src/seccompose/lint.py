"""Find the pitfalls that make a seccomp profile fail open or break programs, before a runtime loads it.

A profile that parses can still do something else than it says: runc and crun drop a
deny whose action equals the default, skip names they cannot resolve, turn repeated
argument indexes into an OR, and glibc only falls back from new syscalls on ENOSYS.
:func:`lint` reads an OCI profile (or ``config.json``), a Docker/Podman profile or a
template and reports each pitfall as a :class:`Finding` of one of the :data:`RULES`,
each with an id, a severity, an explanation and a fix.

Examples:
    >>> report = lint({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"],
    ...                "syscalls": [{"names": ["read", "opnat"], "action": "SCMP_ACT_ALLOW"}]})
    >>> [(f.rule.id, f.location) for f in report.findings]
    [('unknown-syscall', 'syscalls[0].names[1]')]
    >>> print(report.findings[0].message)
    'opnat' is in no syscall table of Linux 7.2.13; runtimes skip it silently; did you mean 'openat'?
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from seccompose._oddities import RULES as _ODDITY_RULES
from seccompose.actions import ENOSYS, EPERM, Action, describe, parse_errno
from seccompose.arch import Arch
from seccompose.errors import InvalidProfileError, SeccomposeError, did_you_mean
from seccompose.fallbacks import ENOSYS_FALLBACK
from seccompose.rules import MAX_ARG_INDEX, Arg, Operator, describe_condition
from seccompose.syscalls import TABLED_ARCHES, all_names, subcalls, table

if TYPE_CHECKING:
    from seccompose.caps import Capability
    from seccompose.profile import Profile

__all__ = [
    "DANGEROUS",
    "ENOSYS_FALLBACK",
    "LIBSECCOMP_KERNEL",
    "RULES",
    "Finding",
    "LintReport",
    "LintRule",
    "Severity",
    "lint",
    "lint_file",
    "rule",
]

Severity = Literal["error", "warning", "info"]
_SEVERITY_ORDER: Final = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class LintRule:
    """One pitfall ``lint`` looks for: a stable ``id``, its severity, why it matters and how to fix it."""

    id: str
    severity: Severity
    title: str
    explanation: str
    fix: str


RULES: Final = (
    LintRule(
        "runtime-cannot-start",
        "error",
        "The profile refuses a syscall the OCI runtime makes after loading it: the container never starts",
        "runc and crun load the container's filter in its init process and then still have work to do before "
        "they exec the program: with noNewPrivileges false (what docker run, podman run and Kubernetes do "
        "unless told otherwise) they load it before dropping capabilities and switching user (capset, "
        "setgroups, setuid, setresuid, ...). A profile that refuses one of those makes the start fail with "
        "'operation not permitted'. The sets are measured per runtime (data/runtime/*.json).",
        "Allow the names listed (`seccompose compose` adds them: --runtime and --no-new-privileges say for "
        "which runtime and mode), or run the container with --security-opt no-new-privileges if the profile "
        "was made for that.",
    ),
    LintRule(
        "noop-deny-overridden",
        "error",
        "A deny that equals the default action, for a name another rule allows",
        "runc and crun drop every rule whose action and errno equal the profile's default action, because "
        "the default already does the same. When another rule allows the same syscall, the dropped deny was "
        "the only thing overriding it, so the syscall is allowed although the profile says it is denied.",
        "Remove the name from the allowing rule; or give the deny a different errno or action than the default.",
    ),
    LintRule(
        "noop-deny",
        "warning",
        "A deny that equals the default action",
        "runc and crun drop every rule whose action and errno equal the default action: the rule does "
        "nothing. Harmless on its own, but it misleads readers and hides the real default.",
        "Delete the rule, or change its action or errno if it was meant to differ from the default.",
    ),
    LintRule(
        "unknown-syscall",
        "error",
        "A name no kernel table has",
        "The name is in none of seccompose's kernel syscall tables: a typo, a name from a kernel newer than "
        "the tables, or from another OS. libseccomp cannot resolve it, and runc and crun skip names they "
        "cannot resolve without an error: an allow never happens and a deny never applies.",
        "Fix the spelling (see the did-you-mean), or check the name with `seccompose syscalls NAME`.",
    ),
    LintRule(
        "unverifiable-syscall",
        "info",
        "A name no table has, in a profile for architectures seccompose has no table for",
        "seccompose has syscall tables for x86_64, x86, x32, aarch64 and arm. The profile also targets "
        "other architectures (s390x, ppc64le, riscv64, ...) where the name may exist (Docker's default "
        "lists s390_pci_mmio_read, swapcontext, ...); lint cannot tell a typo from such a name.",
        "Nothing if the name belongs to one of those architectures; otherwise fix the spelling.",
    ),
    LintRule(
        "not-on-arch",
        "warning",
        "A name that none of the profile's architectures has",
        "The syscall exists, but not on any ABI the profile lists (`open` does not exist on aarch64, "
        "`_llseek` only on 32-bit ones). Runtimes skip it silently, so the rule has no effect.",
        "Use the syscall the architecture has (`openat` for `open`), or list the architecture that has it.",
    ),
    LintRule(
        "compat-arch-missing",
        "error",
        "A default-allow profile without the compat architectures",
        "A deny-list profile (default action allows) only translates its deny rules to the syscall numbers "
        "of the architectures it lists. An x86_64 host also runs x86 (int 0x80) and x32 programs, an aarch64 "
        "host 32-bit arm ones, with other syscall numbers: without those architectures in the list, a "
        "program of that ABI makes the denied syscalls under numbers the filter does not check.",
        "List the compat architectures (x86_64: SCMP_ARCH_X86 and SCMP_ARCH_X32; aarch64: SCMP_ARCH_ARM), "
        "or make the profile an allow-list (default action SCMP_ACT_ERRNO).",
    ),
    LintRule(
        "enosys-fallback",
        "warning",
        "A newer syscall denied with an errno other than ENOSYS",
        "glibc and other runtimes try new syscalls first (clone3, faccessat2, close_range, openat2, statx, "
        "fchmodat2, the 32-bit *_time64 calls) and fall back to the older one only when the kernel says "
        "ENOSYS. Denied with EPERM (or killed), the call fails instead, and programs break in confusing ways.",
        "Deny these names with SCMP_ACT_ERRNO and errnoRet 38 (ENOSYS), as Docker does for clone3, or allow them.",
    ),
    LintRule(
        "io-uring-allowed",
        "warning",
        "io_uring allowed",
        "Operations submitted through an io_uring ring (open, read, connect, ...) run in the kernel without "
        "going through the syscall entry, so seccomp never sees them: allowing io_uring bypasses the "
        "per-syscall filtering of the rest of the profile. Docker's default denies it.",
        "Remove io_uring_setup, io_uring_enter and io_uring_register unless the program needs them and the "
        "operations it can submit are acceptable.",
    ),
    LintRule(
        "repeated-arg-index",
        "error",
        "One rule with two conditions on the same argument",
        "runc and crun cannot AND two conditions on the same argument (libseccomp refuses it), so they turn "
        "every condition of such a rule into a rule of its own: the conditions are ORed, and the rule "
        "matches far more calls than written.",
        "Use one condition per argument (SCMP_CMP_MASKED_EQ can test several bits at once), or split the "
        "rule into rules that each mean what they say.",
    ),
    LintRule(
        "useless-condition",
        "warning",
        "An argument condition that buys nothing",
        "An argument condition should refuse something. This one does not: another rule allows the same "
        "syscall without conditions (so the syscall is allowed whatever its arguments, and the condition only "
        "misleads the reader into thinking it is restricted), or the comparison holds for every value "
        "(`>= 0`, `<= 0xffffffffffffffff`, a mask of 0), or for none (`< 0`: the rule never applies). "
        "Since Linux 5.11 the kernel caches the verdict of a syscall the filter decides from its number alone; "
        "a condition the filter has to test makes every call of that syscall run the filter.",
        "Drop the condition (or the conditional rule), or make it test what was meant; "
        "`seccompose check PROFILE --cost` shows which syscalls the kernel caches and why the others are not.",
    ),
    LintRule(
        "masked-datum",
        "error",
        "SCMP_CMP_MASKED_EQ with valueTwo bits the mask clears",
        "For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum. libseccomp (which runc and crun "
        "use) masks the datum as well and compares `arg & value` with `valueTwo & value`, so the bits of "
        "valueTwo outside the mask are ignored: a condition written to match no value, or a narrower set, "
        "matches the values whose masked bits equal the masked datum.",
        "Clear the bits of valueTwo the mask does not keep (or widen the mask to the bits meant).",
    ),
    LintRule(
        "dangerous-allowed",
        "warning",
        "A dangerous syscall allowed without the capability that justifies it",
        "mount, unshare, setns, bpf, ptrace, keyctl, userfaultfd, open_by_handle_at, kexec_load, "
        "init_module, perf_event_open and others reach kernel attack surface or escape routes. Docker's "
        "default only allows most of them to a container holding the capability that makes them useful. "
        "A profile does not know the container's capabilities, so this is a warning; `--caps` tells lint.",
        "Allow the syscall only with the capability (a Docker-format rule with includes.caps, or "
        "`seccompose compose --cap-add`), or remove it.",
    ),
    LintRule(
        "notify-without-listener",
        "error",
        "SCMP_ACT_NOTIFY without listenerPath",
        "SCMP_ACT_NOTIFY hands the syscall to a seccomp agent listening on listenerPath. Without one, runc "
        "refuses the profile and the container does not start.",
        "Add listenerPath (the agent's UNIX socket), or use another action.",
    ),
    LintRule(
        "newer-than-libseccomp",
        "warning",
        "A syscall newer than libseccomp 2.5.4 knows",
        "libseccomp 2.5.4 (Debian 12, and the runc and crun built with it) resolves the syscalls of Linux "
        "up to 6.7. It cannot resolve newer names (statmount, listmount, mseal, the *xattrat calls, ...), "
        "and runc and crun skip what libseccomp cannot resolve: the rule silently has no effect there.",
        "Keep the rule for newer hosts, but do not rely on it where libseccomp is older than the kernel: "
        "check with `seccompose check PROFILE` on the target host.",
    ),
    LintRule(
        "alias-allowed",
        "error",
        "A syscall refused while another name of it is allowed",
        "Programs of another ABI reach the same kernel operation under other names: an x86_64 host also runs "
        "i386 programs, which call setuid32 for setuid, mmap2 for mmap, _llseek for lseek, the *_time64 "
        "calls; and on x86, socketcall and ipc run the socket and System V IPC calls. Refusing one name "
        "while another rule allows another of the same family (or the multiplexer that runs it) leaves "
        "the operation open.",
        "Refuse the whole family (`seccompose syscalls NAME` lists it; `seccompose compose --deny` does it), "
        "or allow the name you refused.",
    ),
    LintRule(
        "multiplexer-unchecked",
        "warning",
        "A socket or IPC call under argument conditions that socketcall or ipc cannot check",
        "On x86 (i386) a program makes the socket calls through socketcall(call, args) and the System V IPC "
        "calls through ipc(call, ...) too, the arguments in memory the filter cannot read: libseccomp gives "
        "the multiplexer a rule for the call without its argument conditions. A socket allowed only for some "
        "address families is then created with any family through socketcall.",
        "Refuse socketcall (ipc) outright (`seccompose compose --strict-multiplexers`), so i386 programs use "
        "the direct calls (Linux 4.3+), or drop x86 from the architectures.",
    ),
    LintRule(
        "unfilterable-uprobe",
        "warning",
        "uretprobe or uprobe denied on x86_64",
        "Since Linux 6.11 (uretprobe) and 6.18 (uprobe) the kernel lets these x86_64 syscalls pass seccomp "
        "unfiltered: they are only valid from the kernel's own uprobe trampoline. A deny has no effect.",
        "Remove the names from the deny rule; nothing else is needed.",
    ),
    LintRule(
        "permissive-default",
        "warning",
        "A default action that lets unnamed syscalls through",
        "With SCMP_ACT_ALLOW, SCMP_ACT_LOG or SCMP_ACT_TRACE as the default, every syscall no rule names runs "
        "(a deny-list): a new or forgotten syscall is allowed. Docker's and Podman's defaults refuse instead.",
        "Make the profile an allow-list (defaultAction SCMP_ACT_ERRNO); if the deny-list is meant, say so with "
        "--ignore permissive-default.",
    ),
    LintRule(
        "log-rule",
        "warning",
        "A rule that logs instead of deciding",
        "SCMP_ACT_LOG allows the syscall and writes an audit record: useful while learning a profile, a hole "
        "once it ships.",
        "Allow or refuse the syscall; keep LOG only while recording (--ignore log-rule says it is meant).",
    ),
    *(LintRule(i, cast("Severity", sev), title, why, fix) for i, sev, title, why, fix in _ODDITY_RULES),
)
"""Every rule :func:`lint` checks, in the order reports list them."""

_BY_ID: Final = {r.id: r for r in RULES}


def rule(rule_id: str) -> LintRule:
    """Return the lint rule with this id.

    Raises:
        InvalidProfileError: no rule has that id (with a did-you-mean).

    >>> rule("io-uring-allowed").severity
    'warning'
    """
    try:
        return _BY_ID[rule_id]
    except KeyError:
        hint = did_you_mean(rule_id, _BY_ID) or f"; use one of {', '.join(_BY_ID)}"
        raise InvalidProfileError(f"unknown lint rule {rule_id!r}{hint}") from None




DANGEROUS: Final = frozenset(
    {
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "fanotify_init", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms",
        "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "mount", "mount_setattr", "move_mount", "nfsservctl", "open_by_handle_at", "open_tree",
        "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module",
        "quotactl", "quotactl_fd", "reboot", "request_key", "setns", "settimeofday", "stime", "swapoff",
        "swapon", "syslog", "umount", "umount2", "unshare", "userfaultfd", "vhangup",
    }
)  # fmt: skip
"""Syscalls ``dangerous-allowed`` reports when a rule allows them without a justifying capability."""

# Justifications the capability maps do not record: the kernel's own checks.
_EXTRA_JUSTIFICATION: Final = {
    "userfaultfd": ("CAP_SYS_PTRACE",),  # with vm.unprivileged_userfaultfd=0, the default
    "kexec_file_load": ("CAP_SYS_BOOT",),
    "delete_module": ("CAP_SYS_MODULE",),
    "finit_module": ("CAP_SYS_MODULE",),
    "umount": ("CAP_SYS_ADMIN",),
    "umount2": ("CAP_SYS_ADMIN",),
    "open_tree": ("CAP_SYS_ADMIN",),
    "fspick": ("CAP_SYS_ADMIN",),
    "fsconfig": ("CAP_SYS_ADMIN",),
    "fsmount": ("CAP_SYS_ADMIN",),
    "quotactl_fd": ("CAP_SYS_ADMIN",),
    "process_vm_writev": ("CAP_SYS_PTRACE",),
    "settimeofday": ("CAP_SYS_TIME",),
    "stime": ("CAP_SYS_TIME",),
    "clock_adjtime": ("CAP_SYS_TIME",),
}

_IO_URING: Final = ("io_uring_enter", "io_uring_register", "io_uring_setup")
_UNFILTERABLE: Final = ("uprobe", "uretprobe")

LIBSECCOMP_KERNEL: Final = (6, 7)
"""The newest Linux release whose syscalls libseccomp 2.5.4 resolves (checked against it in the tests)."""

_COMPAT: Final = {Arch.X86_64: (Arch.X86, Arch.X32), Arch.AARCH64: (Arch.ARM,)}


# --------------------------------------------------------------------------- the document, as lint reads it


@dataclass(frozen=True, slots=True)
class _AsWritten:
    """An argument condition the one condition type (``rules.Arg``) refuses, kept as the document writes it.

    runc and crun refuse it: an index outside 0-5, an operator not spelled exactly as one of the
    seven ``SCMP_CMP_*`` names, a value or valueTwo that is not an unsigned 64-bit number. That
    is reported on its own (``_oddities``: ``arg-index``, ``unknown-operator``,
    ``engine-refuses``); the other checks still read the condition, and their findings quote
    what the document says. Every condition runc reads as written is a ``rules.Arg``.
    """

    index: int
    op: str
    value: int
    value_two: int


_Condition = Arg | _AsWritten


@dataclass(frozen=True, slots=True)
class _DocRule:
    """One rule of the document as lint reads it: its place, names, verdict, conditions and gates."""

    location: str
    names: tuple[str, ...]
    action: Action
    errno: int | None
    args: tuple[_Condition, ...]
    includes_caps: frozenset[str] = frozenset()
    arches: frozenset[Arch] = frozenset()
    """Host arches the rule is limited to (Docker ``includes.arches``, template ``arches``); empty: all."""


@dataclass(frozen=True, slots=True)
class _Doc:
    kind: str
    prefix: str
    default_action: Action
    default_errno: int | None
    architectures: tuple[Arch, ...]
    """What the profile lists (``archMap``: every host and sub-arch in it); empty: nothing listed."""
    fixed_arches: bool
    """False for templates: compose gives the host's ABIs, so arch checks use every table."""
    listener_path: str | None
    rules: tuple[_DocRule, ...]


def _errno_of(raw: Mapping[str, Any], action: Action, number_key: str, name_key: str, location: str) -> int | None:
    value = raw.get(name_key) if isinstance(raw.get(name_key), str) else raw.get(number_key)
    if not action.takes_errno:
        return None
    if value is None:
        return EPERM  # runc and crun: ERRNO without errnoRet is EPERM
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidProfileError(f"{number_key} must be an integer", location=location)
    return parse_errno(value, location=location)


def _arch_list(names: object, location: str) -> tuple[Arch, ...]:
    if names is None:
        return ()
    if not isinstance(names, list):
        raise InvalidProfileError("must be an array of architecture names", location=location)
    out = []
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise InvalidProfileError("must be a string", location=f"{location}[{i}]")
        try:
            out.append(Arch.parse(name, location=f"{location}[{i}]"))
        except ValueError:
            continue  # engines ignore names they do not know; so does lint
    return tuple(out)


def _conds(raw: object, location: str) -> tuple[_Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidProfileError("args must be an array", location=location)
    out = []
    for i, item in enumerate(raw):
        loc = f"{location}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidProfileError("an argument condition must be an object", location=loc)
        index, value = item.get("index"), item.get("value", 0)
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidProfileError("index must be an integer", location=f"{loc}.index")
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidProfileError("value must be an integer", location=f"{loc}.value")
        two = item.get("valueTwo") or 0
        out.append(_condition(index, str(item.get("op", "")), value, two if isinstance(two, int) else 0))
    return tuple(out)


_EXACT_OPERATORS: Final = {op.value: op for op in Operator}


def _condition(index: int, op: str, value: int, value_two: int) -> _Condition:
    """The condition as runc reads it (``rules.Arg``), or as written when runc refuses it."""
    exact = _EXACT_OPERATORS.get(op)
    fits = all(not isinstance(v, bool) and 0 <= v <= _U64 for v in (value, value_two))
    if exact is None or not 0 <= index <= MAX_ARG_INDEX or not fits:
        return _AsWritten(index, op, value, value_two)
    return Arg(index, exact, value, value_two)


def _rules(raw_rules: object, prefix: str, key: str) -> tuple[_DocRule, ...]:
    if raw_rules is None:
        return ()
    if not isinstance(raw_rules, list):
        raise InvalidProfileError(f"{key} must be an array of rules", location=f"{prefix}{key}")
    out = []
    for i, raw in enumerate(raw_rules):
        loc = f"{prefix}{key}[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidProfileError("a rule must be an object", location=loc)
        names = [raw["name"]] if isinstance(raw.get("name"), str) and not raw.get("names") else raw.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidProfileError("names must be an array of syscall names", location=f"{loc}.names")
        action = Action.parse(raw.get("action", "SCMP_ACT_ALLOW" if key == "rules" else ""), location=f"{loc}.action")
        raw_includes = raw.get("includes")
        includes: Mapping[str, Any] = raw_includes if isinstance(raw_includes, Mapping) else {}
        caps = includes.get("caps") or []
        arches = _arch_list(
            raw["arches"] if key == "rules" and "arches" in raw else includes.get("arches"), f"{loc}.arches"
        )
        out.append(
            _DocRule(
                loc,
                tuple(names),
                action,
                _errno_of(raw, action, "errnoRet", "errno", f"{loc}.errnoRet"),
                _conds(raw.get("args"), f"{loc}.args"),
                frozenset(_cap_name(c) for c in _as_list(caps) if isinstance(c, str)),
                frozenset(arches),
            )
        )
    return tuple(out)


def _as_list(value: object) -> list[Any]:
    """A JSON array, or nothing: a value of another type is the engines' error, reported on its own."""
    return value if isinstance(value, list) else []


def _cap_name(text: str) -> str:
    key = text.strip().upper()
    return key if key.startswith("CAP_") else f"CAP_{key}"


def _read(doc: object, kind: str) -> _Doc:
    prefix = ""
    if kind == "oci" and isinstance(doc, Mapping) and "linux" in doc and "defaultAction" not in doc:
        linux = doc["linux"]
        if not isinstance(linux, Mapping) or not isinstance(linux.get("seccomp"), Mapping):
            raise InvalidProfileError("config.json has no linux.seccomp object", location="linux")
        doc, prefix = linux["seccomp"], "linux.seccomp."
    if not isinstance(doc, Mapping):
        raise InvalidProfileError("a profile must be a JSON object", location="$")
    if kind == "template":
        action = Action.parse(doc["defaultAction"], location="defaultAction") if doc.get("defaultAction") else None
        default = action or Action.ERRNO
        return _Doc(
            kind,
            prefix,
            default,
            _errno_of(doc, default, "defaultErrnoRet", "defaultErrno", "defaultErrnoRet"),
            (),
            fixed_arches=False,
            listener_path=doc.get("listenerPath"),
            rules=_rules(doc.get("rules"), "", "rules"),
        )
    if "defaultAction" not in doc:
        raise InvalidProfileError("missing 'defaultAction'", location=prefix.rstrip(".") or "$")
    action = Action.parse(doc["defaultAction"], location=f"{prefix}defaultAction")
    arches = _arch_list(doc.get("architectures"), f"{prefix}architectures")
    for i, entry in enumerate(_as_list(doc.get("archMap"))):
        if isinstance(entry, Mapping):
            arches += _arch_list([entry.get("architecture", "")], f"archMap[{i}].architecture")
            arches += _arch_list(_as_list(entry.get("subArchitectures")), f"archMap[{i}].subArchitectures")
    listener = doc.get("listenerPath")
    return _Doc(
        kind,
        prefix,
        action,
        _errno_of(doc, action, "defaultErrnoRet", "defaultErrno", f"{prefix}defaultErrnoRet"),
        tuple(dict.fromkeys(arches)),
        fixed_arches=True,
        listener_path=listener if isinstance(listener, str) and listener else None,
        rules=_rules(doc.get("syscalls"), prefix, "syscalls"),
    )


def _from_profile(profile: Profile) -> _Doc:
    rules = tuple(
        _DocRule(
            f"syscalls[{i}]",
            r.names,
            r.action,
            r.errno,
            r.args,
        )
        for i, r in enumerate(profile.rules)
    )
    return _Doc(
        "oci",
        "",
        profile.default_action,
        profile.default_errno,
        profile.architectures,
        fixed_arches=True,
        listener_path=profile.listener_path,
        rules=rules,
    )


# --------------------------------------------------------------------------- findings and the report


@dataclass(frozen=True, slots=True)
class Finding:
    """One pitfall found: which rule, a message naming the syscalls, and where in the document."""

    rule: LintRule
    message: str
    location: str | None = None
    names: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        """The rule's severity."""
        return self.rule.severity

    def to_json(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict (stable key order)."""
        out: dict[str, Any] = {"id": self.rule.id, "severity": self.severity, "message": self.message}
        if self.location:
            out["location"] = self.location
        if self.names:
            out["names"] = list(self.names)
        out["fix"] = self.rule.fix
        return out


@dataclass(frozen=True, slots=True)
class LintReport:
    """What :func:`lint` found in one document, errors first."""

    source: str
    kind: str
    findings: tuple[Finding, ...] = field(default=())

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity ``error``."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity ``warning``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    def failed(self, *, strict: bool = False) -> bool:
        """Whether the profile fails the lint: any error, or (``strict``) any warning.

        >>> LintReport("x", "oci").failed(strict=True)
        False
        """
        return bool(self.errors or (strict and self.warnings))

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "source": self.source,
            "kind": self.kind,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
        }

    def format_text(self) -> str:
        """Return the report as lines a person reads: ``SOURCE:LOCATION: severity [id] message``.

        >>> print(LintReport("p.json", "oci").format_text())
        p.json: no problems found
        """
        if not self.findings:
            return f"{self.source}: no problems found"
        lines = []
        for f in self.findings:
            where = f"{self.source}:{f.location}" if f.location else self.source
            lines.append(f"{where}: {f.severity} [{f.rule.id}] {f.message}")
            lines.append(f"    fix: {f.rule.fix}")
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


# --------------------------------------------------------------------------- the checks


def _abis(arches: Iterable[Arch]) -> tuple[Arch, ...]:
    return tuple(a for a in dict.fromkeys(arches) if a in TABLED_ARCHES)


def _rule_abis(doc: _Doc, r: _DocRule) -> tuple[Arch, ...] | None:
    """The tabled ABIs a rule applies to; None when the profile lists arches seccompose has no table for."""
    if r.arches:
        return _abis(abi for host in sorted(r.arches, key=lambda a: a.value) for abi in host.abis)
    if not doc.fixed_arches:
        return TABLED_ARCHES
    if not doc.architectures or any(a not in TABLED_ARCHES for a in doc.architectures):
        return None
    return _abis(doc.architectures)


def _noop_deny(doc: _Doc) -> Iterator[Finding]:
    allowed = {n for r in doc.rules if r.action.allows for n in r.names}
    if _lists_x86(doc):  # libseccomp gives the multiplexers a rule for every allowed call they run
        allowed.update(s.multiplexer for s in subcalls(Arch.X86) if s.name in allowed)
    for r in doc.rules:
        if r.action.allows or (r.action, r.errno) != (doc.default_action, doc.default_errno):
            continue
        what = describe(r.action, r.errno)
        overridden = tuple(n for n in r.names if n in allowed)
        rest = tuple(n for n in r.names if n not in allowed)
        if overridden:
            yield Finding(
                _BY_ID["noop-deny-overridden"],
                f"{', '.join(overridden)}: this {what} equals the default, so runtimes drop it, and another rule "
                "allows the same name: the syscall is allowed",
                r.location,
                overridden,
            )
        if rest:
            yield Finding(
                _BY_ID["noop-deny"],
                f"{what} for {', '.join(rest)} equals the default action; runtimes drop the rule",
                r.location,
                rest,
            )


def _untabled(doc: _Doc, r: _DocRule) -> bool:
    """Whether the rule may apply to an architecture seccompose has no table for."""
    if r.arches:
        return any(a not in TABLED_ARCHES for host in r.arches for a in host.abis)
    if not doc.fixed_arches:
        return False
    return not doc.architectures or any(a not in TABLED_ARCHES for a in doc.architectures)


def _names(doc: _Doc) -> Iterator[Finding]:
    known = all_names()
    for r in doc.rules:
        abis = _rule_abis(doc, r)
        newer: list[str] = []
        since: dict[str, str] = {}
        for j, name in enumerate(r.names):
            loc = f"{r.location}.names[{j}]"
            if name not in known:
                if _untabled(doc, r):
                    yield Finding(
                        _BY_ID["unverifiable-syscall"],
                        f"{name!r} is in none of seccompose's tables (x86_64, x86, x32, aarch64, arm); it may exist on "
                        "another architecture this profile lists",
                        loc,
                        (name,),
                    )
                    continue
                yield Finding(
                    _BY_ID["unknown-syscall"],
                    f"{name!r} is in no syscall table of Linux {table(Arch.X86_64).kernel}; runtimes skip it "
                    f"silently{did_you_mean(name, known)}",
                    loc,
                    (name,),
                )
                continue
            if not abis:
                continue
            have = [a for a in abis if name in table(a)]
            if not have:
                where = sorted(a.value for a in TABLED_ARCHES if name in table(a))
                yield Finding(
                    _BY_ID["not-on-arch"],
                    f"{name!r} does not exist on {', '.join(a.value for a in abis)} (only on {', '.join(where)}); "
                    "runtimes skip it",
                    loc,
                    (name,),
                )
                continue
            if all(_newer_than_libseccomp(table(a).since(name)) for a in have):
                newer.append(name)
                since[name] = table(have[0]).since(name)
        if newer:
            listed = ", ".join(f"{n} ({since[n]})" for n in newer)
            yield Finding(
                _BY_ID["newer-than-libseccomp"],
                f"libseccomp 2.5.4 cannot resolve {listed}: runc and crun built with it skip them",
                r.location,
                tuple(newer),
            )


def _newer_than_libseccomp(since: str) -> bool:
    if not since or since.startswith("<="):
        return False
    major, minor = since.split(".")[:2]
    return (int(major), int(minor)) > LIBSECCOMP_KERNEL


def _compat(doc: _Doc) -> Iterator[Finding]:
    if not doc.fixed_arches or not doc.default_action.allows:
        return
    if not doc.architectures:
        yield Finding(
            _BY_ID["compat-arch-missing"],
            f"default action {doc.default_action.value} and no architectures: the runtime filters only its "
            "native ABI, and programs of the compat ABIs (x86, x32, arm) are not checked against the deny rules",
            f"{doc.prefix}defaultAction",
        )
        return
    for host, compat in _COMPAT.items():
        if host in doc.architectures:
            missing = [c for c in compat if c not in doc.architectures]
            if missing:
                yield Finding(
                    _BY_ID["compat-arch-missing"],
                    f"default action {doc.default_action.value} on {host.value} without "
                    f"{', '.join(m.oci for m in missing)}: denied syscalls are not denied to "
                    f"{'/'.join(m.value for m in missing)} programs",
                    f"{doc.prefix}architectures",
                    (),
                )


def _enosys(doc: _Doc) -> Iterator[Finding]:
    abis = _abis(doc.architectures) if doc.fixed_arches else TABLED_ARCHES
    default = (doc.default_action, doc.default_errno)
    default_ok = doc.default_action.allows or default == (Action.ERRNO, ENOSYS)
    allowed = {n for r in doc.rules if r.action.allows for n in r.names}
    to_default = []
    for name in ENOSYS_FALLBACK:
        if not any(name in table(a) for a in abis or TABLED_ARCHES):
            continue
        rules = [r for r in doc.rules if name in r.names]
        if any(r.action.allows for r in rules):
            continue  # allowed (perhaps only with a capability or conditions): no deny to fall back from
        fallback = [f for f in ENOSYS_FALLBACK[name] if f in allowed]
        if not fallback:
            continue  # the older call is denied too: the program cannot work either way
        effective = [r for r in rules if (r.action, r.errno) != default]  # runtimes drop the others
        for r in effective:
            if (r.action, r.errno) != (Action.ERRNO, ENOSYS):
                yield Finding(
                    _BY_ID["enosys-fallback"],
                    f"{name} gets {describe(r.action, r.errno)} while {'/'.join(fallback)} is allowed: "
                    "glibc falls back to it only on ENOSYS",
                    r.location,
                    (name,),
                )
        if not effective and not default_ok:
            to_default.append(name)
    if to_default:
        yield Finding(
            _BY_ID["enosys-fallback"],
            f"{', '.join(to_default)} fall to the default {describe(*default)} while the older syscalls are "
            "allowed: glibc falls back to them only on ENOSYS",
            f"{doc.prefix}defaultAction",
            tuple(to_default),
        )


def _io_uring(doc: _Doc) -> Iterator[Finding]:
    for r in doc.rules:
        names = tuple(n for n in r.names if n in _IO_URING)
        if names and r.action.allows:
            yield Finding(
                _BY_ID["io-uring-allowed"],
                f"{', '.join(names)} allowed: operations submitted through io_uring bypass this profile",
                r.location,
                names,
            )


def _repeated(doc: _Doc) -> Iterator[Finding]:
    for r in doc.rules:
        seen: dict[int, int] = {}
        for i, c in enumerate(r.args):
            if c.index in seen:
                yield Finding(
                    _BY_ID["repeated-arg-index"],
                    f"args[{seen[c.index]}] and args[{i}] both test argument {c.index} of {', '.join(r.names)}; "
                    "runtimes OR them",
                    f"{r.location}.args[{i}]",
                    r.names,
                )
            else:
                seen[c.index] = i


_U64: Final = (1 << 64) - 1


def _op_name(c: _Condition) -> str:
    return c.op.value if isinstance(c, Arg) else c.op


def _always(c: _Condition) -> bool | None:
    """True: the condition holds for every value in the filter libseccomp builds; False: for none; None: depends."""
    if isinstance(c, Arg):
        return c.constant
    try:  # a spelling runc refuses (reported on its own): judged as the operator it resembles
        return Arg(c.index, Operator.parse(c.op), c.value & _U64, c.value_two & _U64).constant
    except (ValueError, LookupError):
        return None  # a malformed condition: other checks (and the runtime) report it


def _cond_text(c: _Condition) -> str:
    return describe_condition(c.index, c.op, c.value, c.value_two)


def _covers(wide: _DocRule, narrow: _DocRule) -> bool:
    """Whether an unconditional rule applies wherever a conditional one does (same gates or none)."""
    return (not wide.includes_caps or wide.includes_caps <= narrow.includes_caps) and (
        not wide.arches or (bool(narrow.arches) and narrow.arches <= wide.arches)
    )


def _masked_datum(doc: _Doc) -> Iterator[Finding]:
    for r in doc.rules:
        for i, c in enumerate(r.args):
            if _op_name(c) == "SCMP_CMP_MASKED_EQ" and c.value_two & ~c.value & _U64:
                loaded = c.value_two & c.value & _U64
                yield Finding(
                    _BY_ID["masked-datum"],
                    f"{', '.join(r.names)}: valueTwo {c.value_two:#x} has bits outside the mask {c.value:#x}; the "
                    f"runtime loads arg{c.index} & {c.value:#x} == {loaded:#x}",
                    f"{r.location}.args[{i}]",
                    r.names,
                )


def _useless_conditions(doc: _Doc) -> Iterator[Finding]:
    for r in doc.rules:
        if not r.args:
            continue
        for i, c in enumerate(r.args):
            always = _always(c)
            if always is None:
                continue
            names = ", ".join(r.names)
            if always and _op_name(c) == "SCMP_CMP_MASKED_EQ":
                effect = "libseccomp drops it (a mask of 0 keeps no bit), so it only misleads"
            elif always:
                alone = all(_always(o) is True for o in r.args)
                effect = (
                    f"the rule allows {names} whatever the arguments, but the filter still tests them, so the "
                    f"kernel cannot cache {names}"
                    if alone and r.action.allows
                    else "it only adds instructions to the filter"
                )
            if always:
                message = f"{names}: {_cond_text(c)} holds for every value; {effect}"
            else:
                message = f"{names}: {_cond_text(c)} holds for no value; the rule never applies"
            yield Finding(_BY_ID["useless-condition"], message, f"{r.location}.args[{i}]", r.names)
        for name in r.names:
            wide = next(
                (
                    o
                    for o in doc.rules
                    if o is not r and not o.args and name in o.names
                    and (o.action, o.errno) == (r.action, r.errno) and _covers(o, r)
                ),
                None,
            )  # fmt: skip
            if wide is not None:
                already = (
                    f"allows {name}" if r.action.allows else f"applies {describe(r.action, r.errno)} to {name}"
                )
                yield Finding(
                    _BY_ID["useless-condition"],
                    f"{name}: {wide.location} already {already} without conditions, so these conditions change "
                    "nothing (libseccomp drops them)",
                    f"{r.location}.args",
                    (name,),
                )


def _justifying(name: str) -> tuple[str, ...]:
    from seccompose.caps import load_capability_map

    caps = {c.name for m in ("docker", "kernel") for c in load_capability_map(m).capabilities_for(name)}
    caps.update(_EXTRA_JUSTIFICATION.get(name, ()))
    return tuple(sorted(caps))


def _dangerous(doc: _Doc, caps: frozenset[str] | None) -> Iterator[Finding]:
    for r in doc.rules:
        if not r.action.allows:
            continue
        names = []
        needs: dict[str, tuple[str, ...]] = {}
        for name in r.names:
            if name not in DANGEROUS:
                continue
            justify = _justifying(name)
            if justify and (set(justify) & r.includes_caps or (caps is not None and set(justify) & caps)):
                continue
            names.append(name)
            needs[name] = justify
        if not names:
            continue
        parts = [
            f"{n} (needs {' or '.join(needs[n])})" if needs[n] else f"{n} (no capability makes it safe in a container)"
            for n in names
        ]
        cond = " under argument conditions" if r.args else ""
        yield Finding(
            _BY_ID["dangerous-allowed"],
            f"allowed{cond} without the justifying capability: {', '.join(parts)}",
            r.location,
            tuple(names),
        )


def _notify(doc: _Doc) -> Iterator[Finding]:
    if doc.listener_path:
        return
    for r in doc.rules:
        if r.action is Action.NOTIFY:
            yield Finding(
                _BY_ID["notify-without-listener"],
                f"{', '.join(r.names)} get SCMP_ACT_NOTIFY but the profile has no listenerPath",
                f"{r.location}.action",
                r.names,
            )


def _uprobe(doc: _Doc) -> Iterator[Finding]:
    for r in doc.rules:
        abis = _rule_abis(doc, r)
        if r.action.allows or (abis is not None and Arch.X86_64 not in abis and Arch.X32 not in abis):
            continue
        names = tuple(n for n in r.names if n in _UNFILTERABLE)
        if names:
            yield Finding(
                _BY_ID["unfilterable-uprobe"],
                f"{', '.join(names)} pass seccomp unfiltered on x86_64 (Linux >= 6.11); this "
                f"{describe(r.action, r.errno)} has no effect",
                r.location,
                names,
            )


def _lists_x86(doc: _Doc) -> bool:
    return not doc.fixed_arches or Arch.X86 in doc.architectures


def _hosts(doc: _Doc) -> tuple[Arch, ...]:
    """The hosts whose families apply: the profile's hosts (a template's: x86_64 and aarch64)."""
    if not doc.fixed_arches:
        return (Arch.X86_64, Arch.AARCH64)
    hosts = tuple(a for a in (Arch.X86_64, Arch.AARCH64) if a in doc.architectures)
    return hosts or tuple(a for a in (Arch.X86, Arch.ARM) if a in doc.architectures)


def _aliases(doc: _Doc) -> Iterator[Finding]:
    from seccompose.syscalls import family

    allowed: dict[str, str] = {}
    for r in doc.rules:
        if r.action.allows:
            for n in r.names:
                allowed.setdefault(n, r.location)
    default = (doc.default_action, doc.default_errno)
    runs = {s.name: s.multiplexer for s in subcalls(Arch.X86)} if _lists_x86(doc) else {}
    for r in doc.rules:
        if r.action.allows or r.args or (r.action, r.errno) == default:
            continue
        for name in r.names:
            if r.errno == ENOSYS and name in ENOSYS_FALLBACK:
                continue  # "not implemented": libc falls back to the older call, which is meant to run
            fam = {n for host in _hosts(doc) for n in family(name, host)}
            others = sorted(n for n in fam - set(r.names) if n in allowed)
            multiplexer = runs.get(name)
            through = multiplexer in allowed and not _refused_outright(doc, multiplexer or "")
            if not (others or through):
                continue
            what = [f"{n} (allowed at {allowed[n]})" for n in others]
            if through and multiplexer is not None:
                what.append(f"{multiplexer}, which runs it on x86 (allowed at {allowed[multiplexer]})")
            yield Finding(
                _BY_ID["alias-allowed"],
                f"{name} is refused here ({describe(r.action, r.errno)}) but reached as {', '.join(what)}",
                r.location,
                (name, *others, *([multiplexer] if through and multiplexer else [])),
            )


def _multiplexed(doc: _Doc) -> Iterator[Finding]:
    if not _lists_x86(doc):
        return
    by_name = {s.name: s for s in subcalls(Arch.X86)}
    for r in doc.rules:
        for name in (n for n in r.names if n in by_name) if r.args else ():
            sub = by_name[name]
            if _refused_outright(doc, sub.multiplexer):
                continue
            yield Finding(
                _BY_ID["multiplexer-unchecked"],
                f"{name} is {'allowed' if r.action.allows else 'refused'} under argument conditions, which "
                f"{sub.multiplexer} cannot check on x86: an i386 program makes it through "
                f"{sub.multiplexer}({sub.constant}) with any arguments",
                r.location,
                (name, sub.multiplexer),
            )


def _refused_outright(doc: _Doc, multiplexer: str) -> bool:
    """Whether an unconditional rule, other than the default's action, refuses the multiplexer."""
    default = (doc.default_action, doc.default_errno)
    for r in doc.rules:
        if multiplexer in r.names and not r.args:
            return not r.action.allows and (r.action, r.errno) != default
    return False
def _runtime_start(
    doc: _Doc, caps: frozenset[str] | None, runtime: str | None, no_new_privileges: bool
) -> Iterator[Finding]:
    """The runtime's base set (measured) against what the profile lets run unconditionally, first verdict first."""
    if runtime is None or doc.kind == "template":  # compose adds the base set to a template
        return
    from seccompose.arch import host_arch
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    from seccompose.runtime import describe_start, refused_at_start

    host = next((a for a in doc.architectures if a in (Arch.X86_64, Arch.AARCH64, Arch.X86)), None) or host_arch()
    have = caps if caps is not None else frozenset(c.name for c in DOCKER_DEFAULT_CAPABILITIES)

    def allows(name: str) -> bool:
        for r in doc.rules:
            applies = (not r.arches or host in r.arches) and r.includes_caps <= have
            if name in r.names and applies and not r.args:
                return r.action.allows
        return doc.default_action.allows

    refused = refused_at_start(allows, runtime, no_new_privileges=no_new_privileges, arch=host)
    if refused:
        yield Finding(
            _BY_ID["runtime-cannot-start"],
            f"{', '.join(refused)} refused: {describe_start(runtime, no_new_privileges)} makes "
            f"{'them' if len(refused) > 1 else 'it'} after loading the filter, so the container does not start",
            f"{doc.prefix}syscalls" if doc.prefix else "syscalls",
            refused,
        )


def lint(
    document: Mapping[str, Any] | Profile,
    *,
    source: str = "<profile>",
    caps: Iterable[Capability | str] | None = None,
    ignore: Sequence[str] = (),
    engines: Iterable[str] | None = None,
    bom: bool = False,
    runtime: str | None = None,
    no_new_privileges: bool = False,
) -> LintReport:
    """Return the pitfalls in a profile document (OCI, ``config.json``, Docker/Podman or template) or ``Profile``.

    A Docker/Podman profile is first read the way the engines read it: what they accept but
    what does not say what it seems (keys in another case, ``null``, a rule without names, an
    unknown action, ...) is a finding of its own rule, and so is what they refuse; only a
    document that is not a JSON object is an error.

    Args:
        document: the parsed JSON document, or a ``Profile``.
        source: the name reports show for the document.
        caps: the container's capabilities, when known: ``dangerous-allowed`` then only reports
            syscalls none of them justifies. None: every dangerous allow is reported.
        ignore: ids of rules not to report.
        engines: the engines the profile is for (``docker``, ``docker-20.10``, ``podman``, or
            with a version): ``ignored-by-engine`` reports what they ignore. None: the engines
            installed here, else the newest Docker.
        bom: the file had a byte-order mark (which the engines refuse).
        runtime: the OCI runtimes that will start the container (``"runc"``, ``"crun"``,
            ``"runc,crun"``): ``runtime-cannot-start`` reports the syscalls they make after
            loading the filter that the profile refuses. None: not checked (the CLI checks for
            runc, as Docker runs containers).
        no_new_privileges: the container's ``noNewPrivileges`` (default False, as Docker, Podman
            and Kubernetes run containers), which decides the runtime's base set.

    Raises:
        FormatError: the document is not a JSON object, or a template's or OCI profile's field
            has the wrong type.
        InvalidActionError: an unknown action or errno in a template or OCI profile.
        InvalidRuntimeError: no base set for ``runtime``.

    Examples:
        >>> from seccompose import Profile, Rule, Action, Arch
        >>> p = Profile(default_action=Action.ALLOW, architectures=(Arch.X86_64,),
        ...             rules=(Rule(("io_uring_setup",)), Rule(("mount",), Action.ERRNO, 1)))
        >>> [f.rule.id for f in lint(p).findings]
        ['compat-arch-missing', 'io-uring-allowed', 'permissive-default']
    """
    from seccompose.caps import parse_capabilities
    from seccompose.profile import Profile

    for rule_id in ignore:
        rule(rule_id)
    odd: list[Finding] = []
    doc: _Doc | None
    if isinstance(document, Profile):
        doc, kind = _from_profile(document), "oci"
    else:
        document, kind, odd = _engine_view(document, bom=bom, engines=engines)
        try:
            doc = _read(document, kind)
        except SeccomposeError:
            if not odd:
                raise
            doc = None  # what the engines make of it is reported; the rest needs a profile they accept
    capset = None if caps is None else frozenset(c.name for c in parse_capabilities([str(c) for c in caps]))
    found = odd + ([] if doc is None else _checks(doc, capset, runtime, no_new_privileges))
    order = {r.id: i for i, r in enumerate(RULES)}
    found = [f for f in found if f.rule.id not in ignore]
    found.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], order[f.rule.id]))
    return LintReport(source, kind, tuple(found))


def _engine_view(
    document: object, *, bom: bool, engines: Iterable[str] | None
) -> tuple[Mapping[str, Any], str, list[Finding]]:
    """A Docker/Podman/OCI document as Docker reads it, with its oddities and what the target engines ignore."""
    from seccompose import _oddities
    from seccompose._inputs import kind_of
    from seccompose.engines import ignored, installed, normalize, parse_engine

    if not isinstance(document, Mapping):
        raise InvalidProfileError("a profile must be a JSON object", location="$")
    if "schema" in document or "linux" in document or "ociVersion" in document:
        return document, kind_of(document), []
    odd = [Finding(_BY_ID[rid], message, where) for rid, message, where in _oddities.find(document, bom=bom)]
    targets = installed() if engines is None else tuple(parse_engine(e) for e in engines)
    for target in dict.fromkeys(targets):
        odd += [Finding(_BY_ID["ignored-by-engine"], message) for message in ignored(document, engine=target)]
    from seccompose.loader import is_docker_document

    normal = normalize(document)
    view = normal if isinstance(normal, Mapping) else document
    kind = "docker" if is_docker_document(view) else "oci"
    return view, kind, odd


def _checks(doc: _Doc, capset: frozenset[str] | None, runtime: str | None, no_new_privileges: bool) -> list[Finding]:
    return [
        *_permissive(doc),
        *_noop_deny(doc),
        *_names(doc),
        *_compat(doc),
        *_enosys(doc),
        *_io_uring(doc),
        *_repeated(doc),
        *_useless_conditions(doc),
        *_masked_datum(doc),
        *_dangerous(doc, capset),
        *_notify(doc),
        *_aliases(doc),
        *_multiplexed(doc),
        *_uprobe(doc),
        *_runtime_start(doc, capset, runtime, no_new_privileges),
    ]


def _permissive(doc: _Doc) -> Iterator[Finding]:
    if doc.kind != "template" and doc.default_action in (Action.ALLOW, Action.LOG, Action.TRACE):
        yield Finding(
            _BY_ID["permissive-default"],
            f"default action {doc.default_action.value}: every syscall no rule names is let through",
            f"{doc.prefix}defaultAction",
        )
    for r in doc.rules:
        if r.action is Action.LOG:
            message = f"{', '.join(r.names)} logged and allowed"
            yield Finding(_BY_ID["log-rule"], message, f"{r.location}.action", r.names)


def lint_file(
    spec: str,
    *,
    caps: Iterable[Capability | str] | None = None,
    ignore: Sequence[str] = (),
    engines: Iterable[str] | None = None,
    runtime: str | None = None,
    no_new_privileges: bool = False,
) -> LintReport:
    """Lint a profile file (``-``: stdin) or a shipped template by name.

    Raises:
        TemplateNotFoundError: no such file or template.
        FormatError: the file is not a profile or template.

    >>> lint_file("default").kind
    'template'
    """
    from seccompose._inputs import read_document
    from seccompose._reader import parse_json, read_bytes, resolve

    if resolve(spec) == "name":
        doc, source = read_document(spec)
        return lint(
            doc, source=source, caps=caps, ignore=ignore, engines=engines, runtime=runtime,
            no_new_privileges=no_new_privileges,
        )  # fmt: skip
    if resolve(spec) == "file" and not Path(spec).exists():
        read_document(spec)  # the not-found error every command gives
    source = "<stdin>" if spec == "-" else spec
    data = read_bytes(spec, what="profile")
    doc = parse_json(data, source=source)
    bom = data.startswith(b"\xef\xbb\xbf")
    return lint(doc, source=source, caps=caps, ignore=ignore, engines=engines, bom=bom, runtime=runtime,
                no_new_privileges=no_new_privileges)
