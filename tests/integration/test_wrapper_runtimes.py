"""seccompose-runtime in front of the real runc and crun, on a hand-made bundle (no engine).

The bundle carries the CRI annotations kubelet's runtime would see; the wrapper writes the
decided ``linux.seccomp`` and then ``run``s the container with the real runtime: the kernel's
answer to ``mkdir`` (denied by a rule scoped to the pod's namespace) and to ``rmdir`` (outside
the redis template) is the proof, with the bundle's config.json equal to ``decide`` for the
same facts. crun 1.8 runs in a private mount namespace without the cgroup v2 mount (this
machine's hybrid layout), as tests/integration/test_runtimes.py runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from seccompose.arch import host_arch
from seccompose.caps import Capability
from seccompose.decide import Facts, decide
from seccompose.policy import load_policy
from seccompose.templates import parse_kernel

pytestmark = pytest.mark.integration

WRAPPER = Path(sys.executable).parent / "seccompose-runtime"
TOOLS = Path(__file__).resolve().parents[2] / "tools"
POLICY = """\
templates: [{template: redis, images: ["redis:*"]}]
rules:
  - {name: prod-no-mkdir, deny: [mkdir, mkdirat], scope: {namespaces: [prod]}}
"""


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_bundle", TOOLS / "make_bundle.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _why_not(runtime: str) -> str | None:
    if os.geteuid() != 0:
        return f"{runtime} needs root here"
    if shutil.which(runtime) is None or not Path("/bin/busybox").exists():
        return f"{runtime} or busybox-static is not installed"
    if not WRAPPER.exists():
        return "seccompose-runtime is not installed in this environment"
    return None


@pytest.mark.parametrize("runtime", ["runc", "crun"])
@pytest.mark.parametrize(("image", "namespace"), [("docker.io/library/redis:7", "prod"), ("docker.io/library/app:1", "dev")])
def test_the_wrapper_runs_the_real_runtime_with_the_decided_profile(
    runtime: str, image: str, namespace: str, tmp_path: Path
) -> None:
    if reason := _why_not(runtime):
        pytest.skip(reason)
    tool = _tool()
    script = "mkdir /tmp/new; echo mkdir=$?; rmdir /tmp/d; echo rmdir=$?"
    bundle = tool.make_bundle(tmp_path / "bundle", args=["/bin/sh", "-c", script], no_new_privileges=False,
                              writable=True)  # fmt: skip
    (bundle / "rootfs" / "tmp" / "d").mkdir()
    config = json.loads((bundle / "config.json").read_text())
    config["annotations"] = {
        "io.kubernetes.cri.container-type": "container",
        "io.kubernetes.cri.image-name": image,
        "io.kubernetes.cri.container-name": "c",
        "io.kubernetes.cri.sandbox-name": "pod",
        "io.kubernetes.cri.sandbox-namespace": namespace,
    }
    (bundle / "config.json").write_text(json.dumps(config))
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    own = [str(WRAPPER), "--seccompose-policy", str(policy), "--seccompose-log", str(tmp_path / "log.jsonl"),
           "--seccompose-runtime", runtime]  # fmt: skip
    cid = f"sc16-wrap-{uuid.uuid4().hex[:8]}"
    if runtime == "runc":
        argv = [*own, "run", "--bundle", str(bundle), cid]
    else:
        # crun 1.8 refuses the hybrid cgroup layout: hide the v2 mount in a private mount namespace.
        inner = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"'
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh", *own,
                "--cgroup-manager=disabled", "run", "--bundle", str(bundle), cid]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    finally:
        subprocess.run([runtime, "delete", "-f", cid], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    handed = json.loads((bundle / "config.json").read_text())["linux"]["seccomp"]
    facts = Facts(
        image=image, arch=host_arch(), engine="cri", route="runtime", container_id=cid, name="c",
        capabilities=frozenset(Capability(c) for c in config["process"]["capabilities"]["bounding"]),
        namespace=namespace, pod="pod", runtime=runtime, kernel=parse_kernel(os.uname().release),
        user="0:0",
    )  # fmt: skip
    assert handed == decide(load_policy(policy), facts).seccomp()
    in_prod, is_redis = namespace == "prod", image.startswith("docker.io/library/redis")
    assert f"mkdir={1 if in_prod else 0}" in done.stdout, done.stdout + done.stderr
    assert f"rmdir={1 if is_redis else 0}" in done.stdout, done.stdout + done.stderr
    if in_prod or is_redis:
        assert "Operation not permitted" in done.stderr
