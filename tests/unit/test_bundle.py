"""bundle: linux.seccomp spliced into config.json, every other byte kept; and runc runs the result."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import host_arch
from seccompose.errors import DocumentTooLargeError, FormatError
from seccompose.formats.bundle import MAX_CONFIG_BYTES, get_seccomp, set_seccomp, update_bundle
from seccompose.render import render

PROFILES = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"
SECCOMP = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
RUNC = shutil.which("runc")


def _runc_spec(folder: Path) -> Path:
    if RUNC is None:
        pytest.skip("runc is not installed (apt-get install runc)")
    subprocess.run([RUNC, "spec"], cwd=folder, check=True)
    return folder / "config.json"


def _without_seccomp(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    doc.get("linux", {}).pop("seccomp", None)
    return doc


def test_runc_spec_config_keeps_everything_else(tmp_path: Path) -> None:
    config = _runc_spec(tmp_path)
    before = config.read_text(encoding="utf-8")
    after = set_seccomp(before, SECCOMP)
    assert json.loads(after)["linux"]["seccomp"] == SECCOMP
    assert _without_seccomp(json.loads(after)) == json.loads(before)
    # Key order of every object is the original one.
    assert json.dumps(_without_seccomp(json.loads(after))) == json.dumps(json.loads(before))
    # The text before the linux object's last member is byte-identical.
    cut = before.rindex("]")  # the end of linux.readonlyPaths, the last member runc writes
    assert after[:cut] == before[:cut]


def test_replace_changes_only_the_seccomp_value() -> None:
    before = '{\n  "ociVersion": "1.2.0",\n  "linux": {\n    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"},\n    "x-future": [1, 2]\n  },\n  "annotations": {"b": "1", "a": "2"}\n}\n'
    after = set_seccomp(before, {"defaultAction": "SCMP_ACT_LOG"})
    head, tail = before.split('{"defaultAction": "SCMP_ACT_ALLOW"}')
    assert after.startswith(head)
    assert after.endswith(tail)
    assert json.loads(after)["linux"]["seccomp"] == {"defaultAction": "SCMP_ACT_LOG"}
    assert list(json.loads(after)["annotations"]) == ["b", "a"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("{}", '{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}'),
        ('{"linux": {}}', '{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}'),
        ('{"a": 1}', '{"a": 1, "linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}'),
        (
            '{\n\t"linux": {\n\t\t"sysctl": {}\n\t}\n}',
            '{\n\t"linux": {\n\t\t"sysctl": {},\n\t\t"seccomp": {\n\t\t\t"defaultAction": "SCMP_ACT_LOG"\n\t\t}\n\t}\n}',
        ),
        ('  {"linux" : {"seccomp" : null}}  ', '  {"linux" : {"seccomp" : {"defaultAction": "SCMP_ACT_LOG"}}}  '),
    ],
)
def test_insert_and_replace_layouts(before: str, after: str) -> None:
    assert set_seccomp(before, {"defaultAction": "SCMP_ACT_LOG"}) == after


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("[]", "expected a JSON object"),
        ('{"linux": []}', "linux must be a JSON object"),
        ('{"linux": {}, "linux": {}}', "key 'linux' is given twice"),
        ('{"linux": {"seccomp": {}, "seccomp": {}}}', "key 'seccomp' is given twice"),
        ('{"linux": {', "malformed JSON"),
    ],
)
def test_bad_configs(config: str, fragment: str) -> None:
    with pytest.raises(FormatError, match=fragment):
        set_seccomp(config, SECCOMP, source="config.json")


def test_too_large() -> None:
    with pytest.raises(DocumentTooLargeError):
        set_seccomp(" " * (MAX_CONFIG_BYTES + 1), SECCOMP)


def test_get_seccomp() -> None:
    assert get_seccomp("{}") is None
    assert get_seccomp(set_seccomp("{}", SECCOMP)) == SECCOMP
    with pytest.raises(FormatError, match=r"linux\.seccomp must be a JSON object"):
        get_seccomp('{"linux": {"seccomp": 1}}')


def test_update_bundle_is_atomic_and_keeps_mode(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"ociVersion": "1.2.0"}', encoding="utf-8")
    config.chmod(0o640)
    assert update_bundle(tmp_path, SECCOMP) == config
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert json.loads(config.read_text())["linux"]["seccomp"] == SECCOMP
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left


def test_profile_objects_are_accepted() -> None:
    from seccompose.formats import oci

    profile = oci.from_dict(SECCOMP)
    assert json.loads(set_seccomp("{}", profile))["linux"]["seccomp"] == oci.to_dict(profile)


# unshare(2) in each engine profile, by hand: Docker's allow it only with CAP_SYS_ADMIN (moby rule 17,
# 20.10 rule 13), which runc's default spec does not give, so EPERM (moby: defaultErrnoRet 1; 20.10:
# none, and runtimes default to EPERM); Podman's list it unconditionally (rule 1), so it runs.
ENFORCED = [
    ("docker-default-moby-profiles-cd3bed8.json", "docker", "unshare=1"),
    ("docker-default-20.10.24.json", "docker", "unshare=1"),
    ("podman-default-containers-common-f437c58.json", "podman", "unshare=0"),
    ("podman-default-0.50.1.json", "podman", "unshare=0"),
]


@pytest.mark.integration
@pytest.mark.parametrize("runtime", ["runc", "crun"])
@pytest.mark.parametrize(("name", "engine", "expected"), ENFORCED)
def test_runtime_enforces_the_rendered_profile(
    tmp_path: Path, runtime: str, name: str, engine: str, expected: str
) -> None:
    """An engine profile, rendered for the bundle's own capabilities and spliced in, runs under runc and crun."""
    binary = shutil.which(runtime)
    if binary is None:
        pytest.skip(f"{runtime} is not installed (apt-get install {runtime})")
    if os.geteuid() != 0:
        pytest.skip(f"{runtime} run needs root here (no rootless setup in CI)")
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    config = _runc_spec(tmp_path)
    (tmp_path / "rootfs" / "bin").mkdir(parents=True)
    shutil.copy(busybox, tmp_path / "rootfs" / "bin" / "busybox")
    for applet in ("sh", "unshare", "true"):
        (tmp_path / "rootfs" / "bin" / applet).symlink_to("busybox")
    doc = json.loads(config.read_text())
    bounding = doc["process"]["capabilities"]["bounding"]
    assert "CAP_SYS_ADMIN" not in bounding
    doc["process"]["terminal"] = False
    doc["process"]["args"] = ["/bin/sh", "-c", "unshare -U true; echo unshare=$?; true; echo true=$?"]
    config.write_text(json.dumps(doc, indent="\t"))

    def run() -> str:
        # tools/make_bundle.run_container runs crun 1.8 with the hybrid-cgroup workaround it needs here.
        spec = importlib.util.spec_from_file_location("make_bundle", Path(__file__).parents[2] / "tools" / "make_bundle.py")
        assert spec is not None and spec.loader is not None
        make_bundle = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(make_bundle)
        proc: subprocess.CompletedProcess[str] = make_bundle.run_container(
            runtime, tmp_path, f"seccompose-{uuid.uuid4().hex[:12]}", timeout=60
        )
        if proc.returncode != 0 and "unshare=" not in proc.stdout:
            pytest.skip(f"{runtime} cannot start a container on this machine: {proc.stderr.strip()[:200]}")
        return proc.stdout + proc.stderr

    assert "unshare=0" in run()  # unconfined, it works
    seccomp = render((PROFILES / name).read_text(), engine=engine, arch=host_arch(), caps=bounding)
    update_bundle(tmp_path, seccomp)
    confined = run()
    assert expected in confined, confined
    if expected == "unshare=1":
        assert "Operation not permitted" in confined  # EPERM
    assert "true=0" in confined
