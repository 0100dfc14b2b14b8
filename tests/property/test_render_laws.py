"""Laws of render(), the profile-as-template import, the conditional export, SPO YAML and bundles.

"What the runtime loads" (``_loaded``) is how runc/crun feed an OCI profile to libseccomp,
checked against the real libseccomp in tests/unit (and shown by hand in the report):
rules are added in order, the *first* unconditional rule of a syscall wins (later ones
with another action are dropped silently), and an unconditional rule overrides every
conditional rule of that syscall. Names a host's tables lack are left out on both sides:
seccompose's model has no 32-bit arm table, so ``compose`` cannot keep arm-only names
(``_llseek``) on an aarch64 host that Docker passes to the runtime.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose.arch import Arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability, all_capabilities
from seccompose.compose import compose
from seccompose.formats import oci
from seccompose.formats.bundle import get_seccomp, set_seccomp
from seccompose.formats.docker_profile import export_conditional, load_docker_profile, parse_docker_profile, to_template
from seccompose.formats.k8s import dumps, load_documents, localhost_profile, resolve
from seccompose.loader import load_template, template_names
from seccompose.profile import Profile
from seccompose.render import render
from seccompose.syscalls import all_names, host_names

PROFILES = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"
FILES = {
    "docker-default-moby-profiles-cd3bed8.json": "docker",
    "docker-default-20.10.24.json": "docker",
    "podman-default-containers-common-f437c58.json": "podman",
    "podman-default-0.50.1.json": "podman",
}
HOSTS = (Arch.X86_64, Arch.AARCH64)
ALL_CAPS = sorted(all_capabilities(), key=lambda c: c.number)

cap_sets = st.frozensets(st.sampled_from(ALL_CAPS))
hosts = st.sampled_from(HOSTS)
kernels = st.sampled_from([(3, 10), (4, 4), (4, 8), (5, 10), (6, 18), (7, 0)])


def _loaded(seccomp: dict[str, Any], arch: Arch) -> Profile:
    """The profile the runtime loads from an OCI linux.seccomp object (see the module docstring)."""
    tabled, every = set(host_names(arch)), all_names()
    first: dict[str, tuple[str, int | None]] = {}
    for rule in seccomp.get("syscalls", []):
        if not rule.get("args"):
            for name in rule["names"]:
                first.setdefault(name, (rule["action"], rule.get("errnoRet")))
    rules = []
    for rule in seccomp.get("syscalls", []):
        key = (rule["action"], rule.get("errnoRet"))
        names = [
            n
            for n in rule["names"]
            if not (n in every and n not in tabled) and (n not in first or (not rule.get("args") and first[n] == key))
        ]
        if names:
            rules.append({**rule, "names": names})
    return oci.from_dict({**seccomp, "syscalls": rules}).effective()


def _kernel(k: tuple[int, int]) -> str:
    return f"{k[0]}.{k[1]}"


# --- the engines' own profiles -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "engine"), FILES.items())
@given(caps=cap_sets, arch=hosts, kernel=kernels)
def test_compose_on_imported_profile_equals_render(
    name: str, engine: str, caps: frozenset[Capability], arch: Arch, kernel: tuple[int, int]
) -> None:
    doc = load_docker_profile(PROFILES / name, engine=engine)  # type: ignore[arg-type]
    composed = compose(base=to_template(doc), arch=arch, caps=caps, kernel=kernel, runtime=None)
    rendered = render(doc, engine=engine, arch=arch, caps=caps, kernel=_kernel(kernel))
    assert composed.effective() == _loaded(rendered, arch)


@pytest.mark.parametrize(("name", "engine"), FILES.items())
@given(caps=cap_sets, arch=hosts, kernel=kernels)
def test_compose_base_file_equals_render(
    name: str, engine: str, caps: frozenset[Capability], arch: Arch, kernel: tuple[int, int]
) -> None:
    """compose(base=FILE) goes through loader.load_template (the lead's Docker/Podman reader)."""
    path = PROFILES / name
    composed = compose(base=path, arch=arch, caps=caps, kernel=kernel, runtime=None)
    rendered = render(path.read_text(), engine=engine, arch=arch, caps=caps, kernel=_kernel(kernel))
    assert composed.effective() == _loaded(rendered, arch)


def test_compose_base_file_keeps_podman_first_rule_wins() -> None:
    # Podman denies perf_event_open (rule 16, EPERM unless CAP_SYS_ADMIN/CAP_BPF) before allowing it with
    # CAP_PERFMON (rule 39); libseccomp keeps the first verdict, and so must compose inside one template.
    path = PROFILES / "podman-default-containers-common-f437c58.json"
    caps = DOCKER_DEFAULT_CAPABILITIES | {Capability("CAP_PERFMON")}
    rendered = render(path.read_text(), engine="podman", arch=Arch.X86_64, caps=caps, kernel="6.18")
    assert "perf_event_open" not in _loaded(rendered, Arch.X86_64).allowed()  # the runtime denies it
    composed = compose(base=path, arch=Arch.X86_64, caps=caps, kernel=(6, 18), runtime=None)
    assert "perf_event_open" not in composed.allowed()


# --- random conditional documents, with conflicts on purpose --------------------------------------

POOL = ("read", "openat", "clone", "clone3", "mount", "ptrace", "bpf", "perf_event_open", "setns", "kill")
CAPS_POOL = ("CAP_SYS_ADMIN", "CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN")
ACTIONS = (("SCMP_ACT_ALLOW", None), ("SCMP_ACT_ERRNO", 1), ("SCMP_ACT_ERRNO", 38), ("SCMP_ACT_ERRNO", None))


@st.composite
def _filters(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    caps = draw(st.lists(st.sampled_from(CAPS_POOL), max_size=2, unique=True))
    arches = draw(st.lists(st.sampled_from(["amd64", "arm64", "x86", "s390x"]), max_size=2, unique=True))
    kernel = draw(st.sampled_from([None, None, "4.8", "5.10", "6.18"]))
    if caps:
        out["caps"] = caps
    if arches:
        out["arches"] = arches
    if kernel:
        out["minKernel"] = kernel
    return out


@st.composite
def docker_docs(draw: st.DrawFn) -> dict[str, Any]:
    rules = []
    for _ in range(draw(st.integers(1, 10))):
        action, errno = draw(st.sampled_from(ACTIONS))
        rule: dict[str, Any] = {
            "names": draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4)),
            "action": action,
        }
        if errno is not None:
            rule["errnoRet"] = errno
        if draw(st.booleans()):
            rule["args"] = [{"index": 0, "value": draw(st.integers(0, 2)), "op": "SCMP_CMP_EQ"}]
        for key in ("includes", "excludes"):
            flt = draw(_filters())
            if flt:
                rule[key] = flt
        rules.append(rule)
    doc: dict[str, Any] = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
        ],
        "syscalls": rules,
    }
    default_errno = draw(st.sampled_from([None, 1, 38]))
    if default_errno is not None:
        doc["defaultErrnoRet"] = default_errno
    return doc


@given(doc=docker_docs(), caps=st.frozensets(st.sampled_from(CAPS_POOL)), arch=hosts, kernel=kernels)
def test_random_conditional_documents(
    doc: dict[str, Any], caps: frozenset[str], arch: Arch, kernel: tuple[int, int]
) -> None:
    parsed = parse_docker_profile(doc)
    composed = compose(base=to_template(parsed), arch=arch, caps=caps, kernel=kernel, runtime=None)
    assert composed.effective() == _loaded(render(parsed, arch=arch, caps=caps, kernel=_kernel(kernel)), arch)


# --- conditional export ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*template_names(), *FILES])
@given(caps=cap_sets, arch=hosts)
def test_export_rendered_equals_compose(name: str, caps: frozenset[Capability], arch: Arch) -> None:
    if name in FILES:
        template = to_template(load_docker_profile(PROFILES / name, engine=FILES[name]))  # type: ignore[arg-type]
    else:
        template = load_template(name)
    exported = export_conditional(template)
    # The export is a real Docker profile: it reads back without complaint.
    parse_docker_profile(json.dumps(exported))
    composed = compose(base=template, arch=arch, caps=caps, kernel=(6, 18), runtime=None)
    assert _loaded(render(exported, arch=arch, caps=caps, kernel="6.18"), arch) == composed.effective()


@given(doc=docker_docs(), caps=st.frozensets(st.sampled_from(CAPS_POOL)), arch=hosts, kernel=kernels)
def test_export_of_an_import_renders_the_same(
    doc: dict[str, Any], caps: frozenset[str], arch: Arch, kernel: tuple[int, int]
) -> None:
    exported = export_conditional(to_template(parse_docker_profile(doc)))
    again = render(exported, arch=arch, caps=caps, kernel=_kernel(kernel))
    assert _loaded(again, arch) == _loaded(render(doc, arch=arch, caps=caps, kernel=_kernel(kernel)), arch)


# --- render laws --------------------------------------------------------------------------------


@given(doc=docker_docs(), caps=st.lists(st.sampled_from(CAPS_POOL)), arch=hosts, kernel=kernels)
def test_render_keeps_source_order_and_ignores_cap_order(
    doc: dict[str, Any], caps: list[str], arch: Arch, kernel: tuple[int, int]
) -> None:
    out = render(doc, arch=arch, caps=caps, kernel=_kernel(kernel))
    assert render(doc, arch=arch, caps=sorted(set(caps), reverse=True), kernel=_kernel(kernel)) == out
    # The kept rules are the source's, in order (a subsequence), names untouched.
    source = iter(doc["syscalls"])
    for rule in out.get("syscalls", []):
        assert any(src["names"] == rule["names"] and src["action"] == rule["action"] for src in source)


@given(doc=docker_docs(), caps=st.frozensets(st.sampled_from(CAPS_POOL)), arch=hosts)
def test_docker_and_podman_agree_without_kernel_gates(doc: dict[str, Any], caps: frozenset[str], arch: Arch) -> None:
    for rule in doc["syscalls"]:
        for key in ("includes", "excludes"):
            rule.get(key, {}).pop("minKernel", None)
    assert render(doc, engine="docker", arch=arch, caps=caps) == render(doc, engine="podman", arch=arch, caps=caps)


@pytest.mark.parametrize(("name", "engine"), FILES.items())
@given(caps=cap_sets, arch=hosts)
def test_rendering_a_rendered_profile_is_the_identity(
    name: str, engine: str, caps: frozenset[Capability], arch: Arch
) -> None:
    once = render((PROFILES / name).read_text(), engine=engine, arch=arch, caps=caps, kernel="6.18")
    # kubelet's localhost file is read by containerd / CRI-O as a Docker profile: no conditions left.
    assert render(localhost_profile(once), engine=engine, arch=Arch.S390X, caps=(), kernel="3.10") == once


# --- SPO YAML and bundles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "engine"), FILES.items())
@settings(max_examples=15)  # YAML of a whole profile is slow to write and read
@given(caps=cap_sets, arch=hosts, kernel=kernels)
def test_spo_yaml_round_trips(
    name: str, engine: str, caps: frozenset[Capability], arch: Arch, kernel: tuple[int, int]
) -> None:
    seccomp = render((PROFILES / name).read_text(), engine=engine, arch=arch, caps=caps, kernel=_kernel(kernel))
    if seccomp.get("defaultErrnoRet", 1) != 1:
        seccomp["defaultErrnoRet"] = 1  # SPO has no defaultErrnoRet; EPERM is what runtimes use without it
    text = dumps(seccomp, name="p", namespace="ns")
    back = resolve(load_documents(text), "p", namespace="ns")
    assert back == {k: v for k, v in seccomp.items() if k != "defaultErrnoRet"}
    assert dumps(back, name="p", namespace="ns") == text


@given(doc=docker_docs(), first=hosts, second=hosts)
def test_bundle_set_get_and_last_write_wins(doc: dict[str, Any], first: Arch, second: Arch) -> None:
    config = json.dumps({"ociVersion": "1.2.0", "process": {"args": ["sh"]}, "linux": {"namespaces": []}}, indent=4)
    a, b = render(doc, arch=first, kernel="6.18"), render(doc, arch=second, kernel="4.4")
    once = set_seccomp(config, a)
    assert get_seccomp(once) == a
    assert set_seccomp(once, b) == set_seccomp(config, b)
