"""The laws of a deny, checked on the compiled filter, not through ``explain``.

Each composed profile is compiled with the real libseccomp as runc reads it and the BPF run
call by call (``tests/filters.py``):

- what you allow is allowed: every name of ``allow`` whose family no deny names runs, on every
  ABI the profile lists that has it, with any arguments (and a multiplexer runs every call whose
  family is not denied);
- a deny is a deny: every member of a denied name's family, on every listed ABI, with any
  arguments, is refused, and so is every ``socketcall``/``ipc`` call that runs one;
- ``explain`` tells the truth: for every name of the host, its verdict is the filter's
  (``allowed``: every call runs; ``denied``: none does; ``conditional``: some do).

The strategies deny what the base or the capabilities allow, family members (aliases on
another ABI) and the multiplexers and the calls they run. Each law is also run on a bug
planted on purpose (the ``test_*_catches_*`` tests), to show it fails when it should.

Names the installed libseccomp cannot resolve are left out: runc and crun skip their rules
(``seccompose check`` reports them), so the filter does not say what the profile says.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seccompose
from seccompose import Action, Arch, Profile, Rule, compose
from seccompose.caps import all_capabilities, load_capability_map
from seccompose.explain import explain
from seccompose.syscalls import MULTIPLEXERS, families, family, host_names, subcalls, table
from tests.filters import (
    Call,
    compile_profile,
    denied_calls,
    direct_calls,
    filter_verdict,
    listed,
    resolvable,
    subcall_calls,
    verdict_calls,
)

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

parts_module = sys.modules["seccompose._compose_parts"]  # the multiplexers and provenance
fast_module = sys.modules["seccompose._compose_fast"]  # compose's fast path
ARCHES = (Arch.X86_64, Arch.AARCH64, Arch.X86)
BASES = ("default", "podman-default", "redis", "nginx", "postgres", None)
LAWS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""More examples than the suite's CI profile: these laws are the point of the deny."""

Inputs = dict[str, Any]


def _allowed_by(base: str | None, arch: Arch) -> tuple[str, ...]:
    if base is None:
        return ()
    return tuple(sorted(compose(base, arch=arch, caps=all_capabilities(), runtime=None).allowed()))


def _touchy(arch: Arch) -> tuple[str, ...]:
    """Family members, multiplexers and the calls they run, capability-unlocked names: what a deny must reach."""
    names = set(families(arch))
    names.update(MULTIPLEXERS if any(s.multiplexer for s in subcalls(arch)) else ())
    names.update(n for s in subcalls(arch) for n in (s.name, *s.family) if n in host_names(arch))
    capmap = load_capability_map("docker")
    names.update(n for c in all_capabilities() for n in capmap.syscalls(c, arch=arch))
    return tuple(sorted(names & set(host_names(arch))))


@st.composite
def inputs(draw: st.DrawFn) -> Inputs:
    arch = draw(st.sampled_from(ARCHES))
    base = draw(st.sampled_from(BASES))
    pool = st.sampled_from(host_names(arch))
    deniable = st.one_of(
        pool,
        st.sampled_from(_touchy(arch)),
        *([st.sampled_from(_allowed_by(base, arch))] if base else []),
    )
    return {
        "base": base,
        "arch": arch,
        "caps": draw(st.frozensets(st.sampled_from(sorted(all_capabilities(), key=lambda c: c.number)), max_size=6)),
        "allow": draw(st.lists(st.one_of(pool, st.sampled_from(_touchy(arch))), max_size=5)),
        "deny": draw(st.lists(deniable, max_size=4)),
        "errno_policy": draw(st.sampled_from([None, "eperm", "enosys"])),
        "runtime": draw(st.sampled_from([None, "runc", "crun"])),
    }


def _compose(i: Inputs) -> Profile:
    return compose(
        i["base"], arch=i["arch"], caps=i["caps"], allow=i["allow"], deny=i["deny"],
        errno_policy=i["errno_policy"], runtime=i["runtime"],
    )


def _denied(i: Inputs) -> set[str]:
    return {n for name in i["deny"] for n in (name, *family(name, i["arch"]))}


def allow_violations(profile: Profile, i: Inputs) -> list[str]:
    """Calls of allowed, undenied names the filter refuses."""
    prog = compile_profile(profile)
    denied = _denied(i)
    out = []
    for name in set(i["allow"]) - denied:
        for abi in listed(profile):
            if name in MULTIPLEXERS and abi is Arch.X86:
                if any(name in w and "refused outright" in w for w in profile.warnings):
                    continue  # libseccomp cannot load it call by call: compose refused it, and said so
                calls: list[Call] = [
                    c
                    for s in subcalls(i["arch"])
                    if s.multiplexer == name and not denied.intersection((s.name, *s.family))
                    for c in subcall_calls(s)
                    if c.args[0] == s.call
                ]
            elif resolvable(abi, name):
                calls = list(direct_calls(abi, name))
            else:
                continue
            out += [f"{c} ({name} allowed) -> {c.run(prog).action.name}" for c in calls if not c.run(prog).action.allows]
    return out


def deny_violations(profile: Profile, i: Inputs) -> list[str]:
    """Calls of a denied family (directly or through a multiplexer) the filter lets run."""
    prog = compile_profile(profile)
    return [f"{c} runs" for c in denied_calls(profile, i["arch"], i["deny"]) if c.run(prog).action.allows]


def explain_violations(profile: Profile, i: Inputs) -> list[str]:
    """Names whose explained verdict is not the filter's."""
    prog = compile_profile(profile)
    out = []
    for name in host_names(i["arch"]):
        calls = [c for c in verdict_calls(profile, name) if resolvable(c.abi, name)]
        truth = filter_verdict(prog, calls)
        if truth is None:
            continue
        said = explain(name, profile).verdict
        if said != truth:
            out.append(f"{name}: explain says {said}, the filter {truth}")
    return out


@LAWS
@given(inputs())
def test_what_you_allow_is_allowed(i: Inputs) -> None:
    assert allow_violations(_compose(i), i) == []


@LAWS
@given(inputs())
def test_a_deny_refuses_the_whole_family_on_every_abi_and_through_every_multiplexer(i: Inputs) -> None:
    assert deny_violations(_compose(i), i) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_explain_agrees_with_the_compiled_filter_for_every_name(i: Inputs) -> None:
    assert explain_violations(_compose(i), i) == []


# -- the laws fail on planted bugs ----------------------------------------------------------


def _fixed(**over: Any) -> Inputs:
    return {"base": "default", "arch": Arch.X86_64, "caps": frozenset(), "allow": [], "deny": [],
            "errno_policy": None, "runtime": None, **over}  # fmt: skip


def _cold() -> None:
    seccompose.clear_caches()


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> Any:
    _cold()
    yield monkeypatch
    monkeypatch.undo()
    _cold()


def test_the_deny_law_catches_a_deny_of_the_name_only(planted: pytest.MonkeyPatch) -> None:
    # The bug of before: a deny takes out the name, not its family.
    from seccompose.syscallset import Universe, universe

    u = universe(Arch.X86_64)
    planted.setattr(u, "family_of", u.bit_of)
    planted.setattr(Universe, "expand", lambda self, bits: bits)
    i = _fixed(deny=["setuid", "mmap"])
    found = deny_violations(_compose(i), i)
    assert any("setuid32" in v for v in found) and any("mmap2" in v for v in found)


def test_the_deny_law_catches_a_multiplexer_left_open(planted: pytest.MonkeyPatch) -> None:
    # The bug of before: compose knows nothing of socketcall and ipc (neither path settles their calls).
    from seccompose.syscallset import universe

    u = universe(Arch.X86_64)
    planted.setattr(u, "multiplexers", ())
    planted.setattr(u, "multiplexed", 0)
    # The two reproductions of the issue: the calls' multiplexers allowed outright by the base ...
    i = _fixed(deny=["socket", "semget"])
    found = deny_violations(_compose(i), i)
    assert any("socketcall(SYS_SOCKET" in v for v in found) and any("ipc(SEMGET" in v for v in found)
    # ... and a denied multiplexer running the calls libseccomp adds for every allowed one.
    i = _fixed(deny=["socketcall", "ipc"])
    found = deny_violations(_compose(i), i)
    assert any("socketcall(SYS_BIND" in v for v in found) and any("ipc(SHMAT" in v for v in found)


def test_the_allow_law_catches_a_multiplexer_refused_for_every_call(planted: pytest.MonkeyPatch) -> None:
    # A fix too blunt: the denied call's multiplexer loses all its calls, allowed ones included.
    def blunt(multiplexer: str, calls: Any, refused: Any, rules: Any, default: Any) -> Any:
        return [r for r in (parts_module._without(r, multiplexer) if multiplexer in r.names else r for r in rules) if r]

    real = fast_module._mux_rules
    planted.setattr(parts_module, "_partial", blunt)  # the general path ...
    planted.setattr(  # ... and the fast one: the refusals, without the allows of the calls left
        fast_module, "_mux_rules", lambda *a: tuple(r for r in real(*a) if not r[0][0].allows)
    )
    i = _fixed(allow=["socketcall", "bind"], deny=["socket"])
    found = allow_violations(_compose(i), i)
    # libseccomp still lets socketcall(SYS_BIND) through for the allowed bind; nothing does for send,
    # which i386 has only through socketcall.
    assert any("socketcall(SYS_SEND" in v for v in found)


def test_the_explain_law_catches_the_multiplexer_rules_libseccomp_adds(planted: pytest.MonkeyPatch) -> None:
    # explain reading the rules as written, not as libseccomp loads them on x86: redis does not allow
    # socketcall, yet libseccomp gives it a rule per socket call redis allows.
    import seccompose.profile

    real = seccompose.profile.loaded_rules
    planted.setattr(
        seccompose.profile, "loaded_rules", lambda p, name, abi=None: real(p, name, abi=Arch.X86_64)
    )
    i = _fixed(base="redis")
    assert "socketcall" not in {n for r in _compose(i).rules for n in r.names}
    found = explain_violations(_compose(i), i)
    assert any(v.startswith("socketcall: explain says denied, the filter conditional") for v in found)


def test_the_explain_law_catches_a_verdict_taken_from_the_deny_layer(planted: pytest.MonkeyPatch) -> None:
    # The bug of before: the verdict of a name a deny layer names is "denied", whatever the rules say. With
    # the rules left allowing (a second bug planted), explain and the filter disagree.
    from seccompose.profile import Provenance

    real = parts_module.verdict_from_rules
    planted.setattr(
        parts_module,
        "verdict_from_rules",
        lambda p, name, layers: Provenance(name, "denied", p.default_action, 1, layers) if layers else real(p, name, layers),
    )
    real_after = fast_module._Compiled.after

    def leaky(self: Any, first: Any, touched: int, deny: int, errno: int, mux: Any = None) -> Any:
        rules, shape = real_after(self, first, touched, deny, errno, mux)
        u = self.u
        keep = Rule._from_bits(u, first._bits[1] | u.bit["read"], Action.ALLOW, None, ())  # read left allowed
        return (keep, *rules[1:]), shape

    planted.setattr(fast_module._Compiled, "after", leaky)
    i = _fixed(deny=["read"])
    profile = _compose(i)
    assert "read" in profile.allowed()
    found = explain_violations(profile, i)
    assert "read: explain says denied, the filter allowed" in found
    # Without the first bug, explain reads the rules and tells the truth about the second.
    planted.setattr(parts_module, "verdict_from_rules", real)
    assert explain_violations(_compose(i), i) == []


def test_every_listed_abi_is_checked() -> None:
    # The oracle's own reach: a denied call is asked on each ABI of the host that has it.
    i = _fixed(deny=["setuid"])
    calls = denied_calls(_compose(i), Arch.X86_64, ["setuid"])
    assert {(c.abi, c.name) for c in calls} == {
        (Arch.X86_64, "setuid"), (Arch.X86, "setuid"), (Arch.X32, "setuid"), (Arch.X86, "setuid32"),
    }
    assert table(Arch.X86).number("setuid32") in {c.number for c in calls}
