r"""Learn an app template from traces of the app at work.

``learn`` reads strace logs and kernel audit SECCOMP records (streaming, in
constant memory; several traces merge by union), keeps the calls the kernel
tables know, and writes a template document (``docs/reference/template-format.md``)
with an allow rule for the arch the traces were recorded on and, for traces
recorded on x86_64, a second rule ported to aarch64 (``seccompose.porting``).
The provenance records how the template was made.

>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "t.txt").write_text('7 open("/x", O_RDONLY) = 3\n7 read(3, "", 9) = 0\n7 arch_prctl(0x3001, 0) = -1\n')
>>> doc = learn([d / "t.txt"], program="demo", version="1.0", workload="cat /x", date="2026-11-29")
>>> [(r["arches"], r["action"], r["names"]) for r in doc["rules"]]  # doctest: +NORMALIZE_WHITESPACE
[(['x86_64'], 'SCMP_ACT_ALLOW', ['arch_prctl', 'open', 'read']),
 (['aarch64'], 'SCMP_ACT_ALLOW', ['openat', 'read']),
 (['aarch64'], 'SCMP_ACT_ERRNO', ['openat2'])]
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

from seccompose.actions import ENOSYS, Action
from seccompose.arch import Arch, host_arch
from seccompose.errors import FormatError, InvalidArgumentError
from seccompose.formats import audit, strace
from seccompose.porting import legacy_map, port_names
from seccompose.rules import Rule
from seccompose.syscalls import table

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from seccompose.events import Event
    from seccompose.templates import Template

__all__ = ["Learned", "add_enosys_fallbacks", "learn", "learn_from_events", "read_traces"]

TraceKind = Literal["auto", "strace", "audit"]
_SNIFF = 1 << 16
_MAX_JOBS = 4


@dataclass
class Learned:
    """What a set of traces shows: calls per (ABI, name), names no table knows, and the files read."""

    counts: collections.Counter[tuple[Arch, str]] = field(default_factory=collections.Counter)
    unknown: collections.Counter[tuple[Arch, str]] = field(default_factory=collections.Counter)
    files: list[tuple[str, str, int]] = field(default_factory=list)
    """(path, kind, calls) per file read."""

    def names(self, abis: Iterable[Arch]) -> list[str]:
        """Return the sorted names called on any of ``abis``."""
        wanted = set(abis)
        return sorted({name for abi, name in self.counts if abi in wanted})


class _Progress:
    """A one-line progress bar on a terminal's stderr; silent anywhere else."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.last = 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.stream is None or now - self.last < 0.2:  # at most five redraws a second
            return
        self.last = now
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.stream.write(f"\rlearn: [{bar:<30}] {share:4.0%} {self.done / 1e6:,.0f}/{self.total / 1e6:,.0f} MB")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.last:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def _expand(paths: Iterable[str | Path]) -> list[Path | str]:
    out: list[Path | str] = []
    for p in paths:
        if str(p) == "-":
            out.append("-")
            continue
        path = Path(p)
        if path.is_dir():  # an `strace -ff -o DIR/trace` set: every file in it
            out.extend(sorted(f for f in path.iterdir() if f.is_file()))
        else:
            out.append(path)
    return out


def _sniff(path: Path | str) -> Literal["strace", "audit"]:
    if path == "-":
        return "strace"
    with strace.open_trace(path) as stream:
        head = stream.read(_SNIFF)
    return "audit" if b"type=SECCOMP" in head or b"type=1326" in head else "strace"


@contextlib.contextmanager
def _naming(path: Path | str) -> Iterator[None]:
    """Name the trace in a FormatError raised while reading it."""
    try:
        yield
    except FormatError as exc:
        if exc.source:
            raise
        raise FormatError(str(exc), source="<stdin>" if str(path) == "-" else str(path)) from None


def _default_jobs() -> int:
    """The CPUs this process may run on, at most `_MAX_JOBS`: a big strace log is counted on each."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, _MAX_JOBS))


def read_traces(
    paths: Iterable[str | Path],
    *,
    arch: Arch | None = None,
    kind: TraceKind = "auto",
    progress: bool | None = None,
    jobs: int | None = None,
) -> Learned:
    r"""Read strace logs and audit logs (a directory means every file in it) and merge them.

    Args:
        paths: files, directories (an ``strace -ff`` set) or ``-`` for stdin.
        arch: the arch the traces were recorded on; None: this machine's.
        kind: ``"strace"``, ``"audit"`` or ``"auto"`` (sniffed per file).
        progress: draw a progress bar on stderr; None: only when stderr is a terminal.
        jobs: processes counting one big plain strace log (`strace.count_file`);
            None: one per CPU, up to four. The result does not depend on it.

    Raises:
        FormatError: no path was given, or a trace holds no syscall at all.
        InvalidArgumentError: ``jobs`` is not a number of processes (1 or more).
        OSError: a file cannot be read.

    >>> import io, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "audit.log"
    >>> _ = p.write_text("type=SECCOMP msg=audit(1.1:2): arch=c000003e syscall=257 code=0x7ffc0000\n")
    >>> read_traces([p], arch=Arch.X86_64).names([Arch.X86_64])
    ['openat']
    """
    arch = arch or host_arch()
    files = _expand(paths)
    if not files:
        raise FormatError("no trace given; pass strace logs or audit logs")
    show = sys.stderr.isatty() if progress is None else progress
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise InvalidArgumentError(
            f"jobs must be a whole number of processes, 1 or more, not {jobs!r}", location="jobs"
        )
    jobs = _default_jobs() if jobs is None else jobs
    total = sum(Path(f).stat().st_size for f in files if f != "-")
    bar = _Progress(total, sys.stderr if show else None)
    learned = Learned()
    try:
        for f in files:
            this = kind if kind != "auto" else _sniff(f)
            with strace.open_trace(f) as stream, _naming(f):
                if this == "audit":
                    counts = audit.count_file(stream, progress=bar, text_only=True)
                else:
                    counts = strace.count_file(stream, arch=arch, progress=bar, jobs=jobs, text_only=True)
            if not counts:
                raise FormatError(f"no syscall found in this {this} trace", source=str(f))
            learned.files.append((str(f), this, sum(counts.values())))
            for (abi, name), n in counts.items():
                known = abi in (Arch.X86_64, Arch.X86, Arch.X32, Arch.AARCH64) and name in table(abi)
                (learned.counts if known else learned.unknown)[abi, name] += n
    finally:
        bar.close()
    return learned


def add_enosys_fallbacks(doc: dict[str, Any]) -> dict[str, Any]:
    """Add, per arch, an ENOSYS rule for newer syscalls the program was not seen to call.

    glibc tries ``clone3``, ``faccessat2``, ``statx``… first and falls back to the older
    call only when the kernel answers ENOSYS. A trace on a new kernel shows the newer
    call; the same program on an older kernel, or a code path the workload missed, may
    try one the trace never saw: under EPERM it would fail instead of falling back.
    Idempotent: the rule is rebuilt from the allow rules.

    >>> doc = {"rules": [{"names": ["clone", "read"], "action": "SCMP_ACT_ALLOW", "arches": ["x86_64"]}]}
    >>> add_enosys_fallbacks(doc)["rules"][1]["names"]
    ['clone3']
    """
    from seccompose.fallbacks import ENOSYS_FALLBACK
    from seccompose.syscalls import host_names

    comment = "newer calls libc falls back from only on ENOSYS (seccompose.fallbacks)"
    rules = [r for r in doc["rules"] if r.get("comment") != comment]
    extra = []
    for rule in rules:
        if rule.get("action", "SCMP_ACT_ALLOW") != "SCMP_ACT_ALLOW" or {"args", "includes", "excludes"} & set(rule):
            continue
        have = set(rule["names"])
        arches = rule.get("arches") or []
        # Names another rule for the same arches decides already (inherited from default: clone3).
        have |= {n for r in rules if r is not rule and (r.get("arches") or []) == arches for n in r["names"]}
        universe = set().union(*(host_names(Arch.parse(a)) for a in arches)) if arches else None
        names = sorted(
            new
            for new, old in ENOSYS_FALLBACK.items()
            if new not in have and have.intersection(old) and (universe is None or new in universe)
        )
        if names:
            extra.append(
                {"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS, "arches": arches, "comment": comment}
            )
    return {**doc, "rules": rules + extra}


INHERITED: Final = "as the default template has it, for the container's capabilities"
"""How a learned template's rules taken from ``default`` begin their comment."""


def inherit_default(
    doc: dict[str, Any], *, base: str = "default", keep: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Give a learned template's names the treatment ``base`` gives them, where that is not a plain allow.

    A trace shows which syscalls a program makes, not with which arguments: a template that
    allowed ``clone`` outright would hand a container without CAP_SYS_ADMIN the user
    namespaces Docker's default withholds (likewise ``socket`` families, ``personality``
    values). For every name of an allow rule that ``base`` does not simply allow, the name
    leaves that rule and ``base``'s own rules for it take its place, with their argument
    conditions and capability gates (``clone`` without the ``CLONE_NEW*`` flags unless
    CAP_SYS_ADMIN; ``clone3`` ENOSYS unless CAP_SYS_ADMIN, so glibc falls back to ``clone``;
    ``setns`` with CAP_SYS_ADMIN only). Where ``base`` answers a name with ENOSYS, the calls
    libc then falls back to are added too, and newer calls a kept name falls back from get
    ``base``'s rules. A name ``base`` never allows stays out (the template would be looser
    than ``base`` otherwise), unless ``keep`` names it with the reason: then it stays allowed
    and the reason goes into ``looserThanDefault``.

    Returns the new document and, per arch, the names ``base`` refuses that were left out.

    >>> doc = {"rules": [{"names": ["clone", "read", "unshare"], "action": "SCMP_ACT_ALLOW", "arches": ["x86_64"]}]}
    >>> new, refused = inherit_default(doc)
    >>> for r in new["rules"]:
    ...     gate = [f"{k} {v['caps'][0]}" for k, v in r.items() if k in ("includes", "excludes")]
    ...     print(" ".join([*r["names"], r["action"][9:], str(r.get("errnoRet", "")), *gate, *(
    ...         a["op"] for a in r.get("args", []))]))
    read ALLOW
    clone ALLOW  includes CAP_SYS_ADMIN
    clone ALLOW  excludes CAP_SYS_ADMIN SCMP_CMP_MASKED_EQ
    clone3 ALLOW  includes CAP_SYS_ADMIN
    clone3 ERRNO 38 excludes CAP_SYS_ADMIN
    unshare ALLOW  includes CAP_SYS_ADMIN
    >>> refused
    {}
    """
    from seccompose.loader import load_template

    keep = dict(keep or {})
    default = load_template(base)
    rules: list[dict[str, Any]] = []
    inherited: list[dict[str, Any]] = []
    refused: dict[str, list[str]] = {}
    looser = dict(doc.get("looserThanDefault", {}))
    for rule in doc["rules"]:
        gated = {"args", "includes", "excludes"} & set(rule)
        plain = rule.get("action", "SCMP_ACT_ALLOW") == "SCMP_ACT_ALLOW" and not gated
        if not plain or str(rule.get("comment", "")).startswith(INHERITED) or not rule.get("arches"):
            rules.append(rule)
            continue
        arch = Arch.parse(rule["arches"][0])
        base_rules = _BaseRules(default, arch)
        kept = []
        for name in sorted(base_rules.closure(set(rule["names"]))):
            found = base_rules.treatment(name)
            if base_rules.simply_allowed(found) or name in keep:
                kept.append(name)
                if name in keep and not base_rules.simply_allowed(found):
                    looser[name] = keep[name]
            elif not found:
                refused.setdefault(arch.value, []).append(name)
            else:
                inherited += [base_rules.copy(tr, name) for tr in found]
        rules.append({**rule, "names": kept})
    out = {**doc, "rules": rules + inherited}
    if looser:
        out["looserThanDefault"] = dict(sorted(looser.items()))
    return out, refused


class _BaseRules:
    """The base template's rules that can apply on one host arch, asked about name by name."""

    def __init__(self, template: Any, arch: Arch) -> None:  # noqa: ANN401 - a Template
        from seccompose.syscalls import host_names

        self.arch = arch
        self.rules = [tr for tr in template.rules if _gated_here(tr, arch)]
        self.universe = set(host_names(arch))

    def treatment(self, name: str) -> list[Any]:
        """The base's rules that name ``name``."""
        return [tr for tr in self.rules if name in tr.rule.names]

    @staticmethod
    def simply_allowed(found: list[Any]) -> bool:
        """Whether those rules allow the name outright, whatever the container's capabilities and kernel."""
        return bool(found) and all(
            tr.rule.action.allows and not tr.rule.args and not tr.gate.on_caps and tr.gate.min_kernel is None
            for tr in found
        )

    def closure(self, names: set[str]) -> set[str]:
        """Return ``names`` with the fallbacks around the base's ENOSYS answers.

        The calls libc falls back to from those the base answers ENOSYS (clone for clone3),
        and the newer calls libc tries first that the base treats specially (clone3 for clone).
        """
        from seccompose.fallbacks import ENOSYS_FALLBACK

        names = set(names)
        grew = True
        while grew:
            grew = False
            for name in sorted(names):
                enosys = any(
                    tr.rule.action is Action.ERRNO and tr.rule.errno == ENOSYS for tr in self.treatment(name)
                )
                older = {o for o in ENOSYS_FALLBACK.get(name, ()) if o in self.universe} - names if enosys else set()
                if older:
                    names |= older
                    grew = True
        for new, olds in ENOSYS_FALLBACK.items():
            if new in self.universe and new not in names and names.intersection(olds):
                found = self.treatment(new)
                if found and not self.simply_allowed(found):
                    names.add(new)
        return names

    def copy(self, tr: Any, name: str) -> dict[str, Any]:  # noqa: ANN401 - a TemplateRule
        """The base rule ``tr`` for ``name`` alone, as a learned template's rule on this arch."""
        from seccompose.templates import Template

        part = Template(name="part", rules=(type(tr)(_only(tr.rule, name), tr.gate, tr.comment),)).to_dict()
        item: dict[str, Any] = part["rules"][0]
        item.pop("arches", None)
        item["arches"] = [self.arch.value]
        item["comment"] = INHERITED + (f": {tr.comment}" if tr.comment else "")
        return item


def _gated_here(tr: Any, arch: Arch) -> bool:  # noqa: ANN401 - a TemplateRule
    """Whether a base rule can apply on ``arch`` for some container (its capability gate aside)."""
    g = tr.gate
    return (not g.arches or arch in g.arches) and arch not in g.excluded_arches


def _only(rule: Any, name: str) -> Any:  # noqa: ANN401 - a Rule
    from seccompose.rules import Rule

    return Rule((name,), rule.action, rule.errno, rule.args)


def learn(
    paths: Sequence[str | Path],
    *,
    program: str,
    version: str = "",
    workload: str = "",
    name: str | None = None,
    images: Sequence[str] = (),
    description: str | None = None,
    arch: Arch | None = None,
    kind: TraceKind = "auto",
    trace_command: str = "",
    tool: str = "",
    date: str | None = None,
    progress: bool | None = None,
    jobs: int | None = None,
    base: str | None = "default",
    looser_than_default: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    r"""Return a template document learned from traces (merged by union), with provenance.

    The template has one allow rule for the recording arch (its names cover every
    ABI the host runs, so 32-bit calls land there too) and, for an x86_64 recording,
    one for aarch64 whose names are ported (legacy calls mapped, x86-only calls
    dropped; the notes go to ``provenance.porting``). Names no kernel table knows
    are left out and listed in ``provenance.unresolved``: under the profile they
    fail, as they already do on this kernel. ``jobs`` is as for `read_traces`.

    Names the ``base`` template (``default``) does not simply allow get its rules instead,
    with their argument conditions and capability gates (`inherit_default`), so the template is
    never looser than ``base``; names ``base`` never allows are left out and listed in
    ``provenance.refusedAsDefault``, unless ``looser_than_default`` names them with a reason.
    ``base=None`` keeps every name as traced.

    Raises:
        FormatError: no trace, or a trace without a syscall.
        OSError: a trace cannot be read.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text('getpid() = 9\nepoll_pwait(3, [], 8, -1, NULL, 8) = 0\n')
    >>> rules = learn([p], program="x", arch=Arch.AARCH64, date="2026-01-01")["rules"]
    >>> [(r["arches"], r["names"]) for r in rules if r["action"] == "SCMP_ACT_ALLOW"]
    [(['aarch64'], ['epoll_pwait', 'getpid']), (['x86_64'], ['epoll_pwait', 'epoll_wait', 'getpid'])]
    """
    arch = arch or host_arch()
    learned = read_traces(paths, arch=arch, kind=kind, progress=progress, jobs=jobs)
    name = name or Path(program).name
    recorded = learned.names(arch.abis)
    if not recorded:
        raise FormatError(f"the traces hold no {arch.value} syscall; is --arch right?")
    files = ", ".join(f"{Path(p).name} ({k}, {n} calls)" for p, k, n in learned.files)
    rules: list[dict[str, Any]] = [
        {
            "names": recorded,
            "action": "SCMP_ACT_ALLOW",
            "arches": [arch.value],
            "comment": f"learned from {len(learned.files)} trace(s) of {program}",
        }
    ]
    provenance: dict[str, str] = {
        "program": program,
        "version": version,
        "workload": workload,
        "kernel": platform.release(),
        "arch": arch.value,
        "date": date or dt.datetime.now(tz=dt.UTC).date().isoformat(),
        "traceCommand": trace_command,
        "tool": tool or "seccompose learn",
        "traces": files,
    }
    if arch is Arch.X86_64:
        native = learned.names([Arch.X86_64])
        ported = port_names(native, location="rules[0].names")
        rules.append(
            {
                "names": list(ported.names),
                "action": "SCMP_ACT_ALLOW",
                "arches": [Arch.AARCH64.value],
                "comment": "ported from the x86_64 recording by seccompose.porting",
            }
        )
        provenance["porting"] = "; ".join(ported.notes()) or "no legacy call to port"
    elif arch is Arch.AARCH64:
        # x86_64 has every aarch64 name, but an x86_64 build of the program may call the
        # legacy form (epoll_wait for epoll_pwait): add those, as the porting table says.
        have = set(recorded)
        legacy = sorted(e.name for e in legacy_map().values() if have.intersection(e.replacements))
        rules.append(
            {
                "names": sorted(have.union(legacy)),
                "action": "SCMP_ACT_ALLOW",
                "arches": [Arch.X86_64.value],
                "comment": "the aarch64 names, and the legacy x86_64 calls libc may use for them",
            }
        )
    if learned.unknown:
        provenance["unresolved"] = ", ".join(sorted(f"{n} ({a.value})" for a, n in learned.unknown))
    doc: dict[str, Any] = {
        "schema": 1,
        "name": name,
        "description": description
        or f"{program} {version}".strip() + (f", learned under: {workload}" if workload else ""),
        "images": list(images) or [name, f"docker.io/library/{name}"],
        "capabilityMap": "docker",
        "provenance": {k: v for k, v in provenance.items() if v},
        "rules": rules,
    }
    if base is not None:
        doc, refused = inherit_default(doc, base=base, keep=looser_than_default)
        if refused:
            doc["provenance"]["refusedAsDefault"] = "; ".join(
                f"{arch}: {', '.join(names)}" for arch, names in sorted(refused.items())
            )
        doc["provenance"]["conditions"] = (
            f"names {base} does not simply allow have its rules (argument conditions, capability gates)"
        )
        # looserThanDefault sits before the rules, as in the format's reference
        doc = {k: doc[k] for k in ("schema", "name", "description", "images", "capabilityMap", "provenance")} | {
            k: v for k, v in doc.items() if k in ("looserThanDefault", "rules")
        }
    return add_enosys_fallbacks(doc)


@dataclass
class _EventTally:
    """What an image's events show: calls per (abi, syscall, rule key), rules by key, containers, modes, times."""

    counts: collections.Counter[tuple[str, str, str]] = field(default_factory=collections.Counter)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    containers: set[str] = field(default_factory=set)
    modes: collections.Counter[str] = field(default_factory=collections.Counter)
    first: float | None = None
    last: float | None = None

    @classmethod
    def of(cls, events: Iterable[Event], image: str, modes: Sequence[str]) -> _EventTally:
        from seccompose.events import EventFilter
        from seccompose.formats.oci import rule_from_dict as _rule

        keep = EventFilter(image=image)
        tally = cls()
        for event in events:
            if not keep(event) or event.mode not in modes or event.phase in ("startup", "exec") or not event.syscall:
                continue
            allow = dict(event.allow) if event.allow else {"names": [event.syscall], "action": "SCMP_ACT_ALLOW"}
            rule = _rule({k: allow[k] for k in ("names", "action", "args") if k in allow}, "allow")
            key = json.dumps({"args": allow.get("args") or [], "arch": event.arch}, sort_keys=True)
            entry = tally.rules.setdefault(key, {"names": set(), "args": rule.args, "arch": event.arch})
            entry["names"].update(rule.names)
            tally.counts[event.abi, event.syscall, key] += 1
            tally.containers.add(event.container_id)
            tally.modes[event.mode] += 1
            tally.first = event.time if tally.first is None else min(tally.first, event.time)
            tally.last = event.time if tally.last is None else max(tally.last, event.time)
        return tally


def learn_from_events(
    events: Iterable[Event],
    *,
    image: str,
    into: Template | None = None,
    into_doc: dict[str, Any] | None = None,
    name: str | None = None,
    source: str = "",
    modes: Sequence[str] = ("complain", "learn"),
    date: str | None = None,
) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
    r"""Return a template document updated with what an image's containers needed, and what was added.

    Reads the agent's ``syscall`` events for ``image`` (matched as policies match images)
    made in ``modes`` (by default the learning ones: complain and learn) outside a startup
    phase. Each needed call adds the smallest rule the event names (``allow``: the syscall,
    pinned to the arguments the base checks where it has conditions) to ``into`` (a
    template, or a new one), as ``inherit_default`` leaves it (a name ``default`` conditions or
    gates gets its rules, one it refuses is left out: never looser than ``default``); a name the
    template keeps for its startup phase but which was needed later leaves the phase. The
    provenance says which events, from where, and when.

    Returns:
        (the template document, [(abi, syscall, calls)] added, sorted).

    Raises:
        FormatError: no event of that image in those modes.

    >>> from seccompose.events import Event
    >>> ev = Event("syscall", 0.0, "c1", "", "redis:7", abi="x86_64", arch="x86_64", syscall="epoll_wait",
    ...            mode="complain", phase="steady", allow={"names": ["epoll_wait"], "action": "SCMP_ACT_ALLOW"})
    >>> doc, added = learn_from_events([ev], image="redis:*", date="2026-12-07")
    >>> [r["names"] for r in doc["rules"]], added
    ([['epoll_wait']], [('x86_64', 'epoll_wait', 1)])
    """
    tally = _EventTally.of(events, image, modes)
    counts, rules, containers, seen_modes = tally.counts, tally.rules, tally.containers, tally.modes
    first, last = tally.first, tally.last
    if not counts:
        raise FormatError(
            f"no {'/'.join(modes)} syscall event of image {image!r} outside a startup phase"
            + (f" in {source}" if source else "")
            + "; run the containers under an observed profile with the agent in complain or learn mode"
        )
    doc: dict[str, Any] = dict(into_doc) if into_doc is not None else (into.to_dict() if into is not None else {})
    if not doc:
        repository = image.split("@", maxsplit=1)[0].rsplit("/", 1)[-1].split(":", maxsplit=1)[0]
        stem = name or repository.strip("*") or "learned"
        doc = {"schema": 1, "name": stem, "images": [image], "capabilityMap": "docker", "rules": []}
    elif name:
        doc["name"] = name
    new_rules = list(doc.get("rules") or [])
    from seccompose.formats.oci import rule_to_dict

    learned: list[dict[str, Any]] = []
    for entry in sorted(rules.values(), key=lambda e: (e["arch"], len(e["args"]))):
        item = rule_to_dict(Rule(tuple(sorted(entry["names"])), Action.ALLOW, None, entry["args"]))
        item["arches"] = [entry["arch"]]
        item["comment"] = "needed by containers of " + image + " (seccompose learn --events)"
        learned.append(item)
    # As for traces: a name default conditions or gates gets default's rules, one it refuses is left out.
    inherited, refused = inherit_default({"rules": learned})
    doc["rules"] = new_rules + inherited["rules"]
    needed = {n for e in rules.values() for n in e["names"]}
    phases = doc.get("phases") or {}
    startup = phases.get("startup") if isinstance(phases, dict) else None
    if isinstance(startup, dict) and needed & set(startup.get("names") or ()):
        left = sorted(set(startup["names"]) - needed)
        doc["phases"] = {**phases, "startup": {**startup, "names": left}}
    from seccompose.events import format_time

    provenance = dict(doc.get("provenance") or {})
    added = sorted({(abi, syscall): 0 for abi, syscall, _ in counts}.keys())
    totals = collections.Counter[tuple[str, str]]()
    for (abi, syscall, _), n in counts.items():
        totals[abi, syscall] += n
    provenance["learnedFromEvents"] = (
        f"{source or 'events'}: {sum(counts.values())} calls of {image} by {len(containers)} container(s) "
        f"({', '.join(f'{m} {n}' for m, n in sorted(seen_modes.items()))}) from {format_time(first or 0)} "
        f"to {format_time(last or 0)}; added: " + ", ".join(f"{s} ({a}, {totals[a, s]})" for a, s in added)
    )
    if refused:
        provenance["refusedAsDefault"] = "; ".join(f"{arch}: {', '.join(n)}" for arch, n in sorted(refused.items()))
    provenance["learnedOn"] = date or dt.datetime.now(tz=dt.UTC).date().isoformat()
    doc["provenance"] = provenance
    return doc, [(a, s, totals[a, s]) for a, s in added]
