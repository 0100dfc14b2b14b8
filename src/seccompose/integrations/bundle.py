"""The facts each engine leaves in and around an OCI bundle, as plain data (no seccompose core imports).

The OCI runtime wrapper reads a container's facts from the bundle's ``config.json`` and
from what the engine that wrote it keeps beside it:

- **Kubernetes through containerd's CRI plugin**: annotations ``io.kubernetes.cri.image-name``,
  ``io.kubernetes.cri.container-name``, ``io.kubernetes.cri.sandbox-name`` and
  ``io.kubernetes.cri.sandbox-namespace``; the pause container of a pod sandbox
  (``io.kubernetes.cri.container-type: sandbox``) is a container like the others.
- **Podman** (``io.container.manager: libpod``): privileged and the seccomp option in its
  annotations (``io.podman.annotations.privileged``, ``io.podman.annotations.seccomp``); the
  image and the name in containers/storage's ``containers.json``, two levels above the bundle
  (``<root>/overlay-containers/<id>/userdata``); labels are not handed to the runtime, so
  Podman's ``--annotation KEY=VALUE`` is read as a label.
- **Docker 20.10** writes no annotations. Its own record of the container is the dependable
  source: every Docker container bind-mounts ``/etc/hostname`` (and ``hosts``,
  ``resolv.conf``) from ``<data-root>/containers/<id>/``, and that directory holds the
  daemon's ``config.v2.json`` (image as the user named it, labels, name, the seccomp the user
  asked for) and ``hostconfig.json`` (privileged), written when the container was created,
  before the runtime runs. The record is used only when its ``ID`` is the container's id.
- **containerd without CRI** (``ctr run``, API clients): containerd's own record of the
  container (image, labels), asked with ``ctr containers info`` at the address and namespace
  the shim that runs the runtime was started with (``-address``, ``-namespace``); ``ctr run``
  also copies ``--label`` into the annotations.
- **Anything else** (a hand-made bundle): the annotations, the image from
  ``io.containerd.image.name`` / ``org.opencontainers.image.ref.name`` when present.

>>> config = {"annotations": {"io.kubernetes.cri.image-name": "docker.io/library/redis:7",
...                           "io.kubernetes.cri.container-name": "cache",
...                           "io.kubernetes.cri.sandbox-namespace": "prod"},
...           "process": {"capabilities": {"bounding": ["CAP_KILL"]}}}
>>> raw = facts_from_config(config, bundle="/nonexistent", container_id="c1")
>>> raw["engine"], raw["image"], raw["name"], raw["namespace"], raw["capabilities"]
('cri', 'docker.io/library/redis:7', 'cache', 'prod', ['CAP_KILL'])
"""

from __future__ import annotations

import os

from seccompose.integrations import _fastjson as json  # json's own C code, without its 10 ms import

__all__ = ["facts_from_config", "seccomp_request"]

_CRI = "io.kubernetes.cri."
_PODMAN = "io.podman.annotations."
_MAX_RECORD = 16 << 20  # the daemon's records are small; a huge one is not Docker's


def _read_json(path: str) -> object:
    with open(path, "rb") as f:
        data = f.read(_MAX_RECORD + 1)
    return json.parse(data, source=path, limit=_MAX_RECORD)


def seccomp_request(value: str | None) -> tuple[str, str]:
    """Return (request, digest) for a seccomp option as an engine stores it: ``""``/None, ``unconfined``, a profile.

    >>> seccomp_request(""), seccomp_request("unconfined")[0], seccomp_request('{"defaultAction": "x"}')[0]
    (('default', ''), 'unconfined', 'profile')
    """
    if not value:
        return "default", ""
    if value == "unconfined":
        return "unconfined", ""
    import hashlib  # only for a profile of the user's own

    return "profile", "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _config_facts(config: dict[str, object], container_id: str) -> dict[str, object]:
    process = config.get("process")
    process = process if isinstance(process, dict) else {}
    caps = process.get("capabilities")
    bounding = caps.get("bounding") if isinstance(caps, dict) else None
    user = process.get("user")
    user_text = ""
    if isinstance(user, dict):
        user_text = str(user.get("username") or f"{user.get('uid', 0)}:{user.get('gid', 0)}")
    annotations = config.get("annotations")
    return {
        "engine": "oci",
        "route": "runtime",
        "container_id": container_id,
        "name": "",
        "image": "",
        "image_digest": "",
        "labels": {},
        "namespace": "",
        "pod": "",
        "capabilities": sorted(str(c) for c in bounding) if isinstance(bounding, list) else [],
        "privileged": False,
        "no_new_privileges": bool(process.get("noNewPrivileges", False)),
        "user": user_text,
        "seccomp": "default",
        "seccomp_digest": "",
        "_annotations": dict(annotations) if isinstance(annotations, dict) else {},
    }


def _docker_record(config: dict[str, object], container_id: str) -> tuple[dict[str, object], dict[str, object]] | None:
    mounts = config.get("mounts")
    if not isinstance(mounts, list):
        return None
    for mount in mounts:
        if not isinstance(mount, dict) or mount.get("destination") not in ("/etc/hostname", "/etc/hosts"):
            continue
        source = str(mount.get("source") or "")
        # <data-root>/containers/<id>/hostname; with --network container:X the file is X's, so
        # the record is looked up by this container's id in the same containers/ directory.
        containers = os.path.dirname(os.path.dirname(source))
        if os.path.basename(containers) != "containers":
            continue
        record_dir = os.path.join(containers, container_id)
        try:
            record = _read_json(os.path.join(record_dir, "config.v2.json"))
            host = _read_json(os.path.join(record_dir, "hostconfig.json"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("ID") == container_id and isinstance(host, dict):
            return record, host
    return None


def _podman_storage(bundle: str, container_id: str) -> dict[str, object]:
    # <root>/<driver>-containers/<id>/userdata -> <root>/<driver>-containers/containers.json
    index = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(bundle))), "containers.json")
    try:
        entries = _read_json(index)
    except (OSError, ValueError):
        return {}
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict) and entry.get("id") == container_id:
            try:
                meta = json.parse(str(entry.get("metadata") or "{}"), source=f"{index}: metadata", limit=_MAX_RECORD)
            except ValueError:
                meta = {}
            return {
                "image": str(meta.get("image-name") or ""),
                "image_digest": str(meta.get("image-id") or entry.get("image") or ""),
                "name": str(meta.get("name") or (entry.get("names") or [""])[0]),
            }
    return {}


def facts_from_config(config: dict[str, object], *, bundle: str, container_id: str) -> dict[str, object]:
    """Return the raw facts (``Facts`` fields as plain JSON types) of the container a bundle describes.

    Capabilities are the bounding set the runtime will grant; the engine is recognised by
    what it wrote (see the module docstring).
    """
    raw = _config_facts(config, container_id)
    annotations: dict[str, object] = raw.pop("_annotations")  # type: ignore[assignment]
    text = {str(k): str(v) for k, v in annotations.items()}
    if any(k.startswith(_CRI) for k in text):
        raw.update(
            engine="cri",
            image=text.get(_CRI + "image-name", ""),
            name=text.get(_CRI + "container-name", "") or text.get(_CRI + "sandbox-name", ""),
            namespace=text.get(_CRI + "sandbox-namespace", ""),
            pod=text.get(_CRI + "sandbox-name", ""),
            labels={k: v for k, v in text.items() if not k.startswith(_CRI)},
        )
        if text.get(_CRI + "container-type") == "sandbox" and not raw["image"]:
            raw["image"] = "pause"
        # The CRI plugin writes no annotation for the pod's seccomp choice or for privileged: whatever
        # it put in linux.seccomp (RuntimeDefault or a Localhost file) counts as "nothing asked", and a
        # privileged container is known by its capabilities (all of them).
        return raw
    if text.get("io.container.manager") == "libpod":
        raw.update(engine="podman", **_podman_storage(bundle, container_id))
        raw["privileged"] = text.get(_PODMAN + "privileged", "FALSE").upper() == "TRUE"
        request, digest = seccomp_request(text.get(_PODMAN + "seccomp", ""))
        raw.update(seccomp=request, seccomp_digest=digest)
        raw["labels"] = {
            k: v for k, v in text.items() if not k.startswith(("io.podman.", "io.kubernetes.cri-o.", "io.container."))
        }
        return raw
    docker = _docker_record(config, container_id)
    if docker is not None:
        record, host = docker
        cfg = record.get("Config")
        cfg = cfg if isinstance(cfg, dict) else {}
        labels = cfg.get("Labels")
        request, digest = seccomp_request(str(record.get("SeccompProfile") or ""))
        raw.update(
            engine="docker",
            image=str(cfg.get("Image") or ""),
            image_digest=str(record.get("Image") or ""),
            name=str(record.get("Name") or "").lstrip("/"),
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            privileged=bool(host.get("Privileged")),
            seccomp=request,
            seccomp_digest=digest,
            user=str(cfg.get("User") or raw["user"]),
        )
        return raw
    raw.update(
        engine="containerd" if "/io.containerd.runtime.v2.task/" in os.path.abspath(bundle) else "oci",
        image=text.get("io.containerd.image.name", "") or text.get("org.opencontainers.image.ref.name", ""),
        labels=text,
    )
    if raw["engine"] == "containerd":
        record = _containerd_record(bundle, container_id)
        if record:
            labels = record.get("Labels")
            raw["image"] = str(record.get("Image") or raw["image"])
            if isinstance(labels, dict):
                raw["labels"] = {**{str(k): str(v) for k, v in labels.items()}, **text}
    return raw


def _containerd_record(bundle: str, container_id: str) -> dict[str, object]:
    """Containerd's own record of the container (``ctr containers info``), asked at the shim's address.

    containerd writes no image annotation for ``ctr run``/API clients; the shim that runs the
    runtime was started with ``-address`` (containerd's socket) and ``-namespace``.
    """
    import subprocess

    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return {}
    if not argv or "containerd-shim" not in os.path.basename(argv[0]):
        return {}
    opts = dict(zip(argv[1::2], argv[2::2], strict=False))
    address = opts.get("-address")
    namespace = opts.get("-namespace") or os.path.basename(os.path.dirname(os.path.abspath(bundle)))
    ctr = next((os.path.join(d, "ctr") for d in [*os.environ.get("PATH", "/usr/bin").split(":"), "/usr/bin"]
                if os.access(os.path.join(d, "ctr"), os.X_OK)), None)  # fmt: skip
    if not address or ctr is None:
        return {}
    try:
        done = subprocess.run(
            [ctr, "--address", address, "--namespace", namespace, "containers", "info", container_id],
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
        ok = done.returncode == 0
        record = json.parse(done.stdout, source="ctr containers info", limit=_MAX_RECORD) if ok else {}
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}
    return record if isinstance(record, dict) else {}
