"""Every flag that describes a container is used by compose's plain and policy flows, or refused (exit 2).

``ContainerArgs`` is the one typed object both flows read; ``IN_POLICY_MODE`` says what the policy
flow does with each of its fields. A field added without an entry fails here, and each entry is
checked by running the flow with and without the flag.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from seccompose._commands.compose import IN_POLICY_MODE, ContainerArgs
from seccompose.cli import main
from seccompose.compose import compose

POLICY = """\
templates:
  - {template: redis, images: ["redis:*"]}
rules:
  - {name: perf-team, allow: [perf_event_open], scope: {labels: {team: perf}}}
  - {name: web, allow: [kcmp], scope: {names: ["web-*"]}}
  - {name: prod, allow: [syslog], scope: {namespaces: [prod]}}
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any] | None, str]:
    rc = main(["compose", *argv])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 and out.strip() else None), err


def test_every_field_says_what_the_policy_flow_does_with_it() -> None:
    assert set(IN_POLICY_MODE) == {f.name for f in dataclasses.fields(ContainerArgs)}


# (field, flags, how to see the flag took effect on the policy flow's profile, or None: exit 2)
POLICY_FLAGS: list[tuple[str, list[str], Any]] = [
    ("bases", ["--base", "nginx"], None),
    ("arch", ["--arch", "aarch64"], lambda p: p["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]),
    ("caps", ["--cap-add", "SYS_ADMIN"], lambda p: "mount" in allowed(p)),
    ("allow", ["--allow", "kexec_load"], lambda p: "kexec_load" in allowed(p)),
    ("deny", ["--deny", "read"], lambda p: "read" not in allowed(p)),
    ("deny_exact", ["--deny-exact", "setuid"], lambda p: "setuid" not in allowed(p) and "setuid32" in allowed(p)),
    ("strict_multiplexers", ["--strict-multiplexers"], lambda p: refused(p, "socketcall")),
    ("errno_policy", ["--errno-policy", "enosys"], lambda p: p["defaultErrnoRet"] == 38),
    ("runtime", ["--runtime", "none"], lambda p: "capset" not in allowed(p)),  # redis: runc and crun need it
    ("runtime_given", ["--runtime", "runc"], lambda p: "capset" in allowed(p)),
    ("no_new_privileges", ["--no-new-privileges", "true"], lambda p: True),  # the base set: see the law below
    ("kernel", ["--kernel", "4.4"], lambda p: "ptrace" not in allowed(p)),
    ("labels", ["--label", "team=perf"], lambda p: "perf_event_open" in allowed(p)),
    ("name", ["--name", "web-1"], lambda p: "kcmp" in allowed(p)),
    ("namespace", ["--namespace", "prod"], lambda p: "syslog" in allowed(p)),
    ("privileged", ["--privileged"], lambda p: "mount" in allowed(p)),
    ("seccomp_request", ["--seccomp-request", "unconfined"], None),  # the policy refuses it: unconfined: refuse
]


def allowed(profile: dict[str, Any]) -> set[str]:
    return {n for r in profile["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args") for n in r["names"]}


def refused(profile: dict[str, Any], name: str) -> bool:
    return any(name in r["names"] and r["action"] == "SCMP_ACT_ERRNO" and not r.get("args") for r in profile["syscalls"])


@pytest.mark.parametrize(("field", "flags", "took"), POLICY_FLAGS, ids=[c[0] for c in POLICY_FLAGS])
def test_the_policy_flow_applies_or_refuses_each_flag(
    capsys: pytest.CaptureFixture[str], policy: Path, field: str, flags: list[str], took: Any
) -> None:
    # ubuntu: no binding names it, so the policy's default template (Docker's default)
    base = ["--policy", str(policy), "--image", "ubuntu:24.04", "--arch", "x86_64"]
    if field == "arch":
        base = base[:-2]
    if field.startswith("runtime"):  # redis' template lacks what the runtimes need after loading the filter
        base[3] = "redis:7"
    rc0, before, _ = run(capsys, *base)
    assert rc0 == 0 and before is not None
    rc, after, err = run(capsys, *base, *flags)
    if took is None:
        assert IN_POLICY_MODE[field] == "refused" or field == "seccomp_request"
        assert rc == 2 and err, err
        return
    assert IN_POLICY_MODE[field] == "applies"
    assert rc == 0 and after is not None, err
    assert took(after), field
    if field != "no_new_privileges":
        assert after != before, f"{' '.join(flags)} changed nothing in policy mode"


def test_no_new_privileges_is_the_containers_in_either_flow(capsys: pytest.CaptureFixture[str], policy: Path) -> None:
    # The runtime's base set follows noNewPrivileges: the same flag gives the same profile in both flows.
    for nnp in ("true", "false"):
        _, plain, _ = run(capsys, "--base", "redis", "--arch", "x86_64", "--no-new-privileges", nnp)
        _, via, _ = run(capsys, "--policy", str(policy), "--image", "redis:7", "--arch", "x86_64", "--no-new-privileges", nnp)
        assert plain == via


@pytest.mark.parametrize(
    "flags",
    [["--label", "team=perf"], ["--name", "web-1"], ["--namespace", "prod"], ["--privileged"],
     ["--seccomp-request", "profile"], ["--decision", "-"]],
)  # fmt: skip
def test_container_start_facts_without_a_policy_are_refused(capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    rc, _, err = run(capsys, "--base", "default", *flags)
    assert rc == 2 and "go with --policy and --image" in err


def test_a_repeated_base_is_the_union_not_the_last(capsys: pytest.CaptureFixture[str]) -> None:
    _, nginx, _ = run(capsys, "--base", "nginx", "--arch", "x86_64")
    _, redis, _ = run(capsys, "--base", "redis", "--arch", "x86_64")
    rc, both, _ = run(capsys, "--base", "nginx", "--base", "redis", "--arch", "x86_64")
    assert rc == 0 and nginx and redis and both
    assert allowed(nginx) | allowed(redis) == allowed(both)
    assert allowed(nginx) - allowed(redis) and allowed(redis) - allowed(nginx)  # each brings its own
    rc, denied, _ = run(capsys, "--base", "nginx", "--base", "redis", "--arch", "x86_64", "--deny", "epoll_wait")
    assert "epoll_wait" not in allowed(denied or {"syscalls": []})  # the deny applies after the union


def test_the_running_kernel_unless_kernel_is_given(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    real = os.uname()
    old = os.uname_result((real.sysname, real.nodename, "4.4.0-generic", real.version, real.machine))
    monkeypatch.setattr(os, "uname", lambda: old)
    _, on_4_4, _ = run(capsys, "--base", "default", "--arch", "x86_64")
    assert on_4_4 is not None and "ptrace" not in allowed(on_4_4)  # Docker's default: ptrace from 4.8 on
    _, given, _ = run(capsys, "--base", "default", "--arch", "x86_64", "--kernel", "6.1")
    assert given is not None and "ptrace" in allowed(given)
    assert "ptrace" in compose("default", arch="x86_64").allowed()  # the library: None is the newest, as documented
