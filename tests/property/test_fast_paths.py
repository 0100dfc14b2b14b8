"""The fast paths give exactly what the plain ones do.

- ``oci.dumps`` writes the bytes ``json.dumps(to_dict(p), indent=...)`` writes;
- ``Universe.names_of``/``join``/``write`` (per-byte tables) equal a walk over the bits;
- ``compose`` with its per-layer caches warm gives the profile (rules, warnings,
  provenance) it gives with them cold, and a profile ``Profile`` itself would
  canonicalise to the same thing;
- compose's fast path (``seccompose._compose_fast.fast_path``) gives the profile (rules,
  warnings, provenance) the algebra alone (``compose.__wrapped__``, ``_compose_layers``) gives
  layer by layer: each side called by name, the fast one told to fail rather than hand the
  container on.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import sys
from collections.abc import Sequence
from typing import Any, cast

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import seccompose
from seccompose import Action, Arch, Profile, Rule, Template, compose, dumps, template_names
from seccompose.compose import ErrnoPolicy
from seccompose.formats.oci import to_dict
from seccompose.runtime import ALL_RUNTIMES
from seccompose.syscallset import universe
from tests.property.strategies import arches, capabilities, names, rules

compose_module = sys.modules["seccompose.compose"]
fast_module = sys.modules["seccompose._compose_fast"]


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    arch = draw(arches)
    action = draw(st.sampled_from([Action.ERRNO, Action.KILL_PROCESS, Action.ALLOW, Action.LOG, Action.TRACE]))
    many = [Rule(tuple(draw(names(arch, max_size=200))) or ("read",))] if draw(st.booleans()) else []
    return Profile(
        default_action=action,
        default_errno=draw(st.integers(1, 133)) if action.takes_errno else None,
        architectures=arch.abis if draw(st.booleans()) else (arch,),
        rules=(*many, *draw(st.lists(rules(arch), max_size=6))),
        listener_path=draw(st.none() | st.text(max_size=8)),
        listener_metadata=draw(st.none() | st.text(max_size=8)),
    )


@given(profiles(), st.sampled_from([2, None, 4, 0]))
def test_oci_dumps_is_json_dumps(p: Profile, indent: int | None) -> None:
    assert dumps(p, indent=indent) == json.dumps(to_dict(p), indent=indent)


@given(arches, st.data())
def test_names_of_join_and_write_equal_a_walk_over_the_bits(arch: Arch, data: st.DataObject) -> None:
    u = universe(arch)
    for _ in range(40):  # past the warm-up, so the per-byte tables are used
        u.names_of(u.full)
        u.join(u.full, "test-csv", lambda name: name + ",")
    bits = data.draw(st.integers(0, u.full))
    walked = tuple(name for i, name in enumerate(u.names) if bits >> i & 1)
    assert u.names_of(bits) == walked
    assert u.join(bits, "test-csv", lambda name: name + ",") == "".join(name + "," for name in walked)
    # A few names away from a set whose text is kept (the allow list of a container and its base's), or many.
    few = data.draw(st.lists(st.integers(0, len(u.names) - 1), max_size=14))
    near = bits ^ sum(1 << i for i in set(few)) if data.draw(st.booleans()) else data.draw(st.integers(0, u.full))
    skip = data.draw(st.integers(0, 1))
    for _ in range(2):  # the near set's text built, then read back
        out: list[str] = []
        u.write(out, bits, "test-comma", lambda name: "," + name, near=near, skip=skip)
        assert "".join(out) == "".join("," + name for name in walked)[skip:]


def _cold() -> None:
    seccompose.clear_caches()


def _app(default_action: str, allowed: list[str]) -> Template:
    """An app template with every kind of rule compose treats apart (conditional, refusing, gated on capabilities)."""
    return Template.from_dict(
        {
            "schema": 1,
            "name": "app",
            "defaultAction": default_action,
            "rules": [
                {"names": allowed},
                {
                    "names": ["clone", "socket"],
                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}],
                    "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                },
                {"names": ["mount", "socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["mount"], "action": "SCMP_ACT_KILL", "includes": {"caps": ["CAP_SYS_BOOT"]}},
                # Refusals that capabilities drop: alone on their names (kept in every base, taken out per
                # container), beside an allow they never meet, and beside a rule that can apply with them.
                {"names": ["ptrace", "syslog"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
                {"names": ["ptrace"], "includes": {"caps": ["CAP_SYS_PTRACE"]}},
                {
                    "names": ["bpf", "vhangup"],
                    "action": "SCMP_ACT_TRAP",
                    "excludes": {"caps": ["CAP_BPF", "CAP_SYS_ADMIN"]},
                },
                {
                    "names": ["chroot", "unshare"],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": 38,
                    "excludes": {"caps": ["CAP_SYS_CHROOT"]},
                },
                {"names": ["unshare"], "action": "SCMP_ACT_KILL", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            ],
        }
    )


@st.composite
def containers(draw: st.DrawFn) -> dict[str, object]:
    arch = draw(arches)
    base = draw(st.sampled_from([None, *template_names(), "app"]))
    template: object = base
    if base == "app":
        action = draw(st.sampled_from(["SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS"]))
        template = _app(action, draw(names(arch, max_size=60)) or ["read"])
    return {
        "base": template,
        "arch": arch,
        "caps": [c.name for c in draw(capabilities)],
        "allow": draw(names(arch, max_size=6)),
        "deny": draw(names(arch, max_size=4)),
        "runtime": draw(st.sampled_from([None, "runc", "crun"])),
        "errno_policy": draw(st.sampled_from([None, "eperm", "enosys"])),
        "deny_errno": draw(st.sampled_from([1, 38])),
    }


@given(containers())
def test_compose_with_warm_caches_equals_compose_cold(c: dict[str, object]) -> None:
    compose(**c)  # type: ignore[arg-type]
    warm = compose(**c)  # type: ignore[arg-type]  # the second call reads every cache
    _cold()
    cold = compose(**c)  # type: ignore[arg-type]
    assert warm == cold
    assert warm.warnings == cold.warnings
    assert dumps(warm) == dumps(cold)
    for name in ("read", "clone", "mount", "ptrace", "socket", *c["allow"], *c["deny"]):  # type: ignore[misc]
        assert warm.explain(name) == cold.explain(name)
        assert warm.effective().explain(name) == cold.effective().explain(name)
    # Canonical already: Profile's own canonicalisation changes nothing.
    again = Profile(
        warm.default_action,
        warm.default_errno,
        warm.architectures,
        warm.rules,
        warm.flags,
        warm.listener_path,
        warm.listener_metadata,
    )
    assert again == warm
    assert [r.names for r in again.rules] == [r.names for r in warm.rules]


@given(containers(), st.integers(0, 3))
def test_composed_profiles_emit_what_json_dumps_writes(c: dict[str, object], repeat: int) -> None:
    # Shaped profiles are written from their base's kept texts and the first rule's bits: the
    # bytes must still be json.dumps' own, for every layout and however often the texts were reused.
    for _ in range(repeat + 1):
        p = compose(**c)  # type: ignore[arg-type]
        for indent in (2, None):
            assert dumps(p, indent=indent) == json.dumps(to_dict(p), indent=indent)


def test_rules_built_from_bits_read_their_names_when_asked() -> None:
    u = universe(Arch.X86_64)
    bits = u.mask(["write", "read", "openat"])
    lazy = Rule._from_bits(u, bits, Action.ALLOW, None, ())
    assert lazy == Rule(("read", "write", "openat")) and hash(lazy) == hash(Rule(("openat", "read", "write")))
    assert lazy.names == ("openat", "read", "write")
    again = pickle.loads(pickle.dumps(Rule._from_bits(u, bits, Action.ALLOW, None, ())))  # noqa: S301 - our own bytes
    assert again.names == lazy.names
    with pytest.raises(AttributeError, match="no attribute 'nmes'"):
        lazy.nmes  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.names = ()  # type: ignore[misc]


def test_fast_built_profiles_are_frozen_and_compare_by_value() -> None:
    p = compose("default", arch=Arch.X86_64, caps=("CAP_CHOWN",), allow=("ptrace",), runtime=None)
    assert type(p) is Profile and type(p.rules[0]) is Rule
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.rules = ()  # type: ignore[misc]
    assert p == Profile(p.default_action, p.default_errno, p.architectures, p.rules, p.flags)


# Names the shipped templates allow only under conditions, refuse with their own errno, or gate on capabilities;
# names of a family (a deny takes them all) and the multiplexers and calls they run (a deny settles them on x86).
_TOUCHY = (
    "clone", "clone3", "socket", "personality", "ptrace", "mount", "unshare", "setns", "bpf", "kill", "chroot",
    "setuid32", "mmap", "umount", "_llseek", "fstatat64", "socketcall", "ipc", "semget", "sendto", "recvmmsg_time64",
)  # fmt: skip


class _HandedOn(Exception):  # noqa: N818 - not an error: the fast path declined
    """The fast path handed the container to the algebra."""


def _declined(*_args: object) -> Profile:
    raise _HandedOn


_FAST_ONLY = fast_module.fast_path(general=_declined, template_from=compose_module._template_from, named={})(
    compose_module.compose.__wrapped__
)
"""compose's fast path with a general path that fails: it answers, or says it hands the container on."""


def _sides(c: dict[str, Any], allow: Sequence[str], deny: Sequence[str]) -> tuple[Profile | None, Profile]:
    """Return the fast path's profile (None: it hands this container to the algebra) and the algebra's.

    The fast side is compose's fast path with its general path replaced by one that fails;
    the algebra's is ``compose`` undecorated (``compose.__wrapped__``): every layer resolved
    and combined by ``_compose_layers``.
    """
    given = {**c, "allow": tuple(allow), "deny": tuple(deny)}
    try:
        fast: Profile | None = _FAST_ONLY(**given)
    except _HandedOn:
        fast = None
    return fast, compose_module.compose.__wrapped__(**given)


def test_compose_is_its_fast_path_with_the_algebra_s_signature_and_doc() -> None:
    assert compose.__code__ is not compose_module.compose.__wrapped__.__code__  # the fast path runs
    assert inspect.signature(compose, follow_wrapped=False) == inspect.signature(compose.__wrapped__)  # type: ignore[attr-defined]
    assert compose.__doc__ == compose.__wrapped__.__doc__ and compose.__module__ == "seccompose.compose"  # type: ignore[attr-defined]


def _assert_same(fast: Profile, general: Profile, names: Sequence[str]) -> None:
    assert fast == general
    assert [r.names for r in fast.rules] == [r.names for r in general.rules]
    assert dumps(fast) == dumps(general)
    assert fast.warnings == general.warnings
    for name in (*names, "read", "clone", "mount", "ptrace", "socket", "socketcall", "ipc"):
        assert fast.explain(name) == general.explain(name), name
        assert fast.effective().explain(name) == general.effective().explain(name), name


@given(containers(), st.lists(st.sampled_from(_TOUCHY), max_size=3), st.lists(st.sampled_from(_TOUCHY), max_size=2))
def test_compose_fast_path_equals_the_layer_by_layer_algebra(
    c: dict[str, Any], more_allow: list[str], more_deny: list[str]
) -> None:
    # The fast path (compiled templates, their variants and the multiplexers' kept rules) against the algebra
    # (_compose_layers: _combine_layers, then Profile's own canonicalisation and _multiplex), each called by name.
    allow = (*cast("list[str]", c["allow"]), *more_allow)
    deny = (*cast("list[str]", c["deny"]), *more_deny)
    fast, general = _sides(c, allow, deny)
    event("fast path" if fast is not None else "handed to the algebra")
    if fast is None:  # compose gives the algebra's profile
        fast = compose(**{**c, "allow": allow, "deny": deny})
    _assert_same(fast, general, (*allow, *deny))


@pytest.mark.parametrize("base", ["default", "podman-default", "nginx", "redis", None])
@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64])
def test_the_fast_path_answers_the_common_containers(base: str | None, arch: Arch) -> None:
    # The comparison above is worth something only where the fast path answers: Docker's default capabilities
    # with allow and deny lists (a socket call denied: x86's multiplexers settled on the fast path too).
    docker = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP"]
    docker += ["SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]
    for allow, deny in (((), ()), (("ptrace",), ()), ((), ("mount",)), (("bpf", "ptrace"), ("connect", "setuid"))):
        c = {"base": base, "arch": arch, "caps": docker, "runtime": "runc", "errno_policy": None, "deny_errno": 1}
        fast, general = _sides(c, allow, deny)
        assert fast is not None, (allow, deny)
        _assert_same(fast, general, (*allow, *deny))


_GATING = ("CAP_SYS_PTRACE", "CAP_BPF", "CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SYS_BOOT")


@pytest.mark.parametrize("base", ["app", "podman-default", "default"])
@pytest.mark.parametrize("subset", range(1 << len(_GATING)))
def test_refusals_capabilities_drop_equal_the_layer_by_layer_algebra(base: str, subset: int) -> None:
    # Every set of the capabilities the templates' refusals look at, with a name of such a refusal
    # allowed: the kept bases (every refusal in them, taken out per container) give what the rules do.
    template: str | Template = _app("SCMP_ACT_ERRNO", ["read"]) if base == "app" else base
    caps = [cap for i, cap in enumerate(_GATING) if subset >> i & 1]
    policy: ErrnoPolicy | None = "enosys" if base == "app" else None  # the refusals' errno differs from the default's
    c = {"base": template, "arch": Arch.X86_64, "caps": caps, "runtime": ALL_RUNTIMES, "errno_policy": policy}
    for allow in ((), ("syslog",), ("chroot", "bpf")):
        fast, general = _sides({**c, "deny_errno": 1}, allow, ())
        assert fast is not None
        _assert_same(fast, general, allow)
