"""containerd 1.6 (Debian): ``ctr run`` with the runc shim's ``BinaryName``, and the Kubernetes path through CRI.

A private containerd (own config, root, state and socket) runs the documented configuration
(docs/examples/containerd/config.toml: a runtime ``seccompose`` whose runc shim options set
``BinaryName`` to seccompose-runtime). The Kubernetes path is driven as kubelet drives it: a CRI
client (tests/integration/_cri.py) calls RunPodSandbox / CreateContainer / StartContainer with the
runtime handler the RuntimeClass names (docs/examples/kubernetes/runtimeclass.yaml), for the pod
of docs/examples/kubernetes/pod.yaml; the wrapper takes the image from the CRI annotations.
Checks: the errno of real syscalls in the containers (``ExecSync``, ``ctr tasks exec``) and the
bundle's config.json, against ``seccompose compose --policy`` for the same facts.

The wrapper reads its policy and log from ``SECCOMPOSE_POLICY`` / ``SECCOMPOSE_LOG`` in
containerd's environment (the shim and the runtime inherit it). ``restrict_oom_score_adj`` is
set because this machine cannot lower a process's OOM score (the pause container asks -998).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tests.integration._engines import WRAPPER, busybox_rootfs, compose_for, last_decision, oci_archive, stop_process

if TYPE_CHECKING:
    from tests.integration._cri import CRI

pytestmark = [pytest.mark.integration, pytest.mark.engines]

CONTAINERD = shutil.which("containerd")
CTR = shutil.which("ctr")

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
EPERM_TEXT = b"Operation not permitted"


class Containerd:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.sock = root / "c.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def ctr(self, *args: str, namespace: str = "default", check: bool = True) -> subprocess.CompletedProcess[bytes]:
        assert CTR is not None
        done = subprocess.run([CTR, "--address", str(self.sock), "--namespace", namespace, *args],
                              capture_output=True, timeout=180, check=False)  # fmt: skip
        if check and done.returncode != 0:
            pytest.fail(f"ctr {' '.join(args)}: {done.stderr.decode()[-800:]}")
        return done

    def bundle(self, namespace: str, cid: str) -> dict[str, Any]:
        path = self.root / "state" / "io.containerd.runtime.v2.task" / namespace / cid / "config.json"
        doc: dict[str, Any] = json.loads(path.read_text())
        return doc


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # Skipped per test (not per module), so a CI run counts each skip (tests/ci_skips.py).
    if CONTAINERD is None or CTR is None or os.geteuid() != 0 or not WRAPPER.exists():
        pytest.skip("containerd and ctr (as root) and seccompose-runtime are needed")
    tmp = tmp_path_factory.mktemp("containerd")
    root = Path(f"/tmp/sc16-ctd-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    (root / "cni" / "bin").mkdir(parents=True)
    (root / "cni" / "conf").mkdir(parents=True)
    documented = (EXAMPLES / "containerd" / "config.toml").read_text()
    assert "/usr/local/bin/seccompose-runtime" in documented
    private = f"""version = 2
root = "{root}/root"
state = "{root}/state"
[grpc]
  address = "{root}/c.sock"
[ttrpc]
  address = "{root}/c.sock.ttrpc"
"""
    config = private + documented.replace("version = 2\n", "", 1).replace(
        "/usr/local/bin/seccompose-runtime", str(WRAPPER)
    ) + f"""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:1"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
  # What `containerd config default` has, and a config with its own runtimes table must keep.
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{root}/cni/bin"
    conf_dir = "{root}/cni/conf"
"""  # fmt: skip
    (root / "config.toml").write_text(config)
    policy = tmp / "policy.yaml"
    shutil.copy(EXAMPLES / "policy.yaml", policy)
    log = tmp / "decisions.jsonl"
    env = {**os.environ, "SECCOMPOSE_POLICY": str(policy), "SECCOMPOSE_LOG": str(log)}
    engine = Containerd(root)
    out = (root / "containerd.log").open("wb")
    assert CONTAINERD is not None
    engine.proc = subprocess.Popen([CONTAINERD, "--config", str(root / "config.toml")], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(200):
            if engine.sock.exists() and engine.ctr("version", check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"containerd did not start: {(root / 'containerd.log').read_text()[-800:]}")
        # Two images with different content: containerd's image-name annotation names an image by
        # its first reference, so two tags of one image would both be called by the first.
        redis = busybox_rootfs(tmp / "redis")
        (redis / "etc" / "image").write_text("redis\n")
        plain = busybox_rootfs(tmp / "plain")
        (plain / "etc" / "image").write_text("plain\n")
        archives = [
            oci_archive(redis, tmp / "redis.tar", ("docker.io/library/redis:7",), ["cat"]),
            oci_archive(plain, tmp / "plain.tar", ("docker.io/library/plain:1",), ["cat"]),
            oci_archive(plain, tmp / "pause.tar", ("localhost/pause:1",), ["/bin/sleep", "2147483647"]),
        ]
        for namespace in ("default", "k8s.io"):
            for archive in archives:
                engine.ctr("images", "import", str(archive), namespace=namespace)
        yield {"engine": engine, "policy": policy, "log": log, "tmp": tmp}
    finally:
        stop_process(engine.proc)
        out.close()
        _kill_shims(root)
        for mount in sorted((root / "state").rglob("rootfs"), reverse=True) if (root / "state").exists() else ():
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _kill_shims(root: Path) -> None:
    """Stop the shims this containerd started (found by the address in their command line)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(root).encode() in b" ".join(argv):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


# --- ctr run ------------------------------------------------------------------------------------


def _ctr_run(engine: Containerd, name: str, image: str, *cmd: str, options: tuple[str, ...] = (),
             detach: bool = False) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    mode = ("-d",) if detach else ("--rm",)
    return engine.ctr("run", *mode, "--runc-binary", str(WRAPPER), *options, image, name, *cmd, check=False)


def test_ctr_run_a_bound_image_gets_its_template(setup: dict[str, Any]) -> None:
    engine: Containerd = setup["engine"]
    done = _ctr_run(engine, "ctr-redis", "docker.io/library/redis:7", "rmdir", "/tmp/d")
    assert done.returncode != 0 and EPERM_TEXT in done.stderr  # rmdir: not in the redis template
    entry = last_decision(setup["log"], "ctr-redis")
    assert (entry["engine"], entry["image"], entry["decision"]["template"]) == ("containerd", "docker.io/library/redis:7", "redis")
    # containerd's default spec (ctr run) sets noNewPrivileges, unlike Docker's and kubelet's.
    expected, record = compose_for(setup["policy"], "docker.io/library/redis:7", entry["decision"]["capabilities"],
                                   no_new_privileges=entry["decision"]["facts"]["no_new_privileges"])  # fmt: skip
    assert entry["decision"]["profile"] == record["profile"]
    kept = Path(str(setup["log"]) + ".profiles") / (record["profile"].removeprefix("sha256:") + ".json")
    assert json.loads(kept.read_text()) == expected


def test_ctr_run_labels_and_capabilities(setup: dict[str, Any]) -> None:
    engine: Containerd = setup["engine"]
    done = _ctr_run(engine, "ctr-plain", "docker.io/library/plain:1", "sleep", "120",
                    options=("--label", "env=prod"), detach=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    try:
        config = engine.bundle("default", "ctr-plain")
        caps = config["process"]["capabilities"]["bounding"]
        expected, record = compose_for(setup["policy"], "docker.io/library/plain:1", caps, labels={"env": "prod"},
                                       no_new_privileges=config["process"].get("noNewPrivileges", False))  # fmt: skip
        assert config["linux"]["seccomp"] == expected
        assert last_decision(setup["log"], "ctr-plain")["decision"]["profile"] == record["profile"]
        probe = engine.ctr("tasks", "exec", "--exec-id", "p1", "ctr-plain", "mkdir", "/tmp/new", check=False)
        assert probe.returncode != 0 and EPERM_TEXT in probe.stderr  # the label-scoped deny
        probe = engine.ctr("tasks", "exec", "--exec-id", "p2", "ctr-plain", "rmdir", "/tmp/d", check=False)
        assert probe.returncode == 0, probe.stderr  # default allows it
        probe = engine.ctr("tasks", "exec", "--exec-id", "p3", "ctr-plain", "unshare", "-U", "true", check=False)
        assert EPERM_TEXT in probe.stderr
        probe = engine.ctr("tasks", "exec", "--exec-id", "p4", "ctr-plain", "mknod", "/tmp/fifo", "p", check=False)
        assert probe.returncode == 0, probe.stderr  # not a Kubernetes namespace: the namespace rule does not apply
    finally:
        engine.ctr("tasks", "kill", "-s", "KILL", "ctr-plain", check=False)
        time.sleep(0.5)
        engine.ctr("containers", "rm", "ctr-plain", check=False)
    done = _ctr_run(engine, "ctr-admin", "docker.io/library/plain:1", "unshare", "-U", "true",
                    options=("--cap-add", "CAP_SYS_ADMIN"))  # fmt: skip
    assert done.returncode == 0, done.stderr


# --- Kubernetes: the CRI plugin with the RuntimeClass's handler ----------------------------------


@pytest.fixture
def cri(setup: dict[str, Any]) -> Iterator[CRI]:
    pytest.importorskip("grpc", reason="the engines dependency group (grpcio) is not installed")
    from tests.integration._cri import CRI

    client = CRI(str(setup["engine"].sock))
    try:
        yield client
    finally:
        client.close()


def test_the_kubernetes_path(setup: dict[str, Any], cri: CRI) -> None:
    from tests.integration._cri import Pod

    runtime_class = yaml.safe_load((EXAMPLES / "kubernetes" / "runtimeclass.yaml").read_text())
    pod_spec = yaml.safe_load((EXAMPLES / "kubernetes" / "pod.yaml").read_text())
    handler = runtime_class["handler"]
    assert f"runtimes.{handler}]" in (EXAMPLES / "containerd" / "config.toml").read_text()
    assert pod_spec["spec"]["runtimeClassName"] == runtime_class["metadata"]["name"]
    meta = pod_spec["metadata"]
    engine: Containerd = setup["engine"]
    pod = Pod(meta["name"], meta["namespace"], "uid-web-1", str(setup["tmp"] / "pods" / meta["name"]), {"env": "prod"})
    pod_id = cri.run_pod_sandbox(pod, handler)
    try:
        spec = pod_spec["spec"]["containers"][0]
        image = f"docker.io/library/{spec['image']}"  # kubelet hands CRI the normalised reference
        cache = cri.create_container(pod_id, pod, name=spec["name"], image=image, command=["cat"], stdin=True)
        cri.start_container(cache)
        config = engine.bundle("k8s.io", cache)
        caps = config["process"]["capabilities"]["bounding"]
        expected, record = compose_for(setup["policy"], image, caps, name=spec["name"],
                                       extra=("--namespace", meta["namespace"]),
                                       no_new_privileges=config["process"].get("noNewPrivileges", False))  # fmt: skip
        assert config["linux"]["seccomp"] == expected
        entry = last_decision(setup["log"], cache)
        assert (entry["engine"], entry["image"], entry["container"]["name"]) == ("cri", image, spec["name"])
        assert entry["decision"]["facts"]["namespace"] == meta["namespace"] and entry["decision"]["facts"]["pod"] == meta["name"]
        assert (entry["decision"]["template"], entry["decision"]["profile"]) == ("redis", record["profile"])
        code, _, err = cri.exec_sync(cache, ["rmdir", "/tmp/d"])
        assert code != 0 and EPERM_TEXT in err  # the kernel, under the redis template

        tool = cri.create_container(pod_id, pod, name="tool", image="docker.io/library/plain:1", command=["cat"],
                                    stdin=True, cap_add=["SYS_ADMIN"])  # fmt: skip
        cri.start_container(tool)
        entry = last_decision(setup["log"], tool)
        assert entry["decision"]["template"] == "default" and "CAP_SYS_ADMIN" in entry["decision"]["capabilities"]
        tool_config = engine.bundle("k8s.io", tool)
        assert tool_config["linux"]["seccomp"] == compose_for(
            setup["policy"], "docker.io/library/plain:1", tool_config["process"]["capabilities"]["bounding"],
            name="tool", no_new_privileges=tool_config["process"].get("noNewPrivileges", False),
            extra=("--namespace", meta["namespace"]),
        )[0]  # fmt: skip
        assert cri.exec_sync(tool, ["unshare", "-U", "true"])[0] == 0
        # The rule scoped to the pod's namespace: mknod refused here, allowed by default elsewhere (ctr below).
        assert [r["name"] for r in entry["decision"]["rules"]] == ["prod-pods-no-mknod"]
        code, _, err = cri.exec_sync(tool, ["mknod", "/tmp/fifo", "p"])
        assert code != 0 and EPERM_TEXT in err
        assert cri.exec_sync(tool, ["rmdir", "/tmp/d"])[0] == 0
        # The pod's sandbox (pause) container went through the wrapper too.
        assert last_decision(setup["log"], pod_id)["decision"]["action"] == "apply"
    finally:
        cri.stop_pod_sandbox(pod_id)
        cri.remove_pod_sandbox(pod_id)
