"""A minimal CRI client, as kubelet calls the runtime: gRPC (grpcio) with the messages encoded by hand.

Only the calls and fields the tests use, with the field numbers of the CRI ``runtime.v1`` API
(``k8s.io/cri-api`` ``pkg/apis/runtime/v1/api.proto``); protobuf's wire format is small enough
to write directly (varints, length-delimited fields, maps as repeated key/value entries), so
no generated code and no ``protoc`` are needed, and nothing is fetched at test time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

__all__ = ["CRI", "NODE"]

NODE = 2  # NamespaceMode.NODE: the pod uses the host's network (no CNI needed)
CONTAINER = 1
_SERVICE = "/runtime.v1.RuntimeService/"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len(num: int, data: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _str(num: int, text: str) -> bytes:
    return _len(num, text.encode()) if text else b""


def _int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value) if value else b""


def _map(num: int, items: Mapping[str, str]) -> bytes:
    return b"".join(_len(num, _str(1, k) + _str(2, v)) for k, v in sorted(items.items()))


def _repeated(num: int, texts: list[str]) -> bytes:
    return b"".join(_len(num, t.encode()) for t in texts)


def decode(data: bytes) -> dict[int, list[Any]]:
    """Return a message's fields: number -> values (ints for varints, bytes for length-delimited)."""
    fields: dict[int, list[Any]] = {}
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        num, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 2:
            size, i = _read_varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(num, []).append(value)
    return fields


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7


@dataclass
class Pod:
    name: str
    namespace: str
    uid: str
    log_directory: str
    labels: Mapping[str, str]

    def config(self) -> bytes:
        metadata = _str(1, self.name) + _str(2, self.uid) + _str(3, self.namespace)
        security = _len(1, _int(1, NODE) + _int(2, CONTAINER))  # namespace_options: host network, own pids
        linux = _len(2, security)
        return _len(1, metadata) + _str(3, self.log_directory) + _map(6, self.labels) + _len(8, linux)


class CRI:
    """The RuntimeService of a CRI endpoint (containerd's CRI plugin)."""

    def __init__(self, socket: str) -> None:
        self.channel = grpc.insecure_channel(f"unix://{socket}")

    def close(self) -> None:
        self.channel.close()

    def _call(self, method: str, request: bytes, timeout: float = 120) -> dict[int, list[Any]]:
        call = self.channel.unary_unary(_SERVICE + method)
        reply: bytes = call(request, timeout=timeout)
        return decode(reply)

    def version(self) -> str:
        fields = self._call("Version", _str(1, "v1"))
        return b" ".join(fields.get(2, []) + fields.get(3, [])).decode()

    def run_pod_sandbox(self, pod: Pod, runtime_handler: str) -> str:
        return self._call("RunPodSandbox", _len(1, pod.config()) + _str(2, runtime_handler))[1][0].decode()  # type: ignore[no-any-return]

    def create_container(self, pod_id: str, pod: Pod, *, name: str, image: str, command: list[str],
                         cap_add: list[str] = (), labels: Mapping[str, str] | None = None,  # type: ignore[assignment]
                         stdin: bool = False, runtime_default: bool = True) -> str:  # fmt: skip
        security = b""
        if cap_add:
            security += _len(1, _repeated(1, list(cap_add)))
        security += _len(3, _int(1, NODE) + _int(2, CONTAINER))
        # seccomp: SecurityProfile{profile_type}: RuntimeDefault is 0 (an empty message says it),
        # Unconfined 1; kubelet sends RuntimeDefault when the pod asks for it.
        security += _len(15, b"" if runtime_default else _int(1, 1))
        config = (
            _len(1, _str(1, name))
            + _len(2, _str(1, image))
            + _repeated(3, command)
            + _map(9, labels or {})
            + _str(11, f"{name}.log")
            + _int(12, int(stdin))
            + _len(15, _len(2, security))
        )
        request = _str(1, pod_id) + _len(2, config) + _len(3, pod.config())
        return self._call("CreateContainer", request)[1][0].decode()  # type: ignore[no-any-return]

    def start_container(self, container_id: str) -> None:
        self._call("StartContainer", _str(1, container_id))

    def exec_sync(self, container_id: str, cmd: list[str], timeout: int = 30) -> tuple[int, bytes, bytes]:
        fields = self._call("ExecSync", _str(1, container_id) + _repeated(2, cmd) + _int(3, timeout), timeout + 30)
        return (fields.get(3, [0])[0], b"".join(fields.get(1, [])), b"".join(fields.get(2, [])))

    def stop_pod_sandbox(self, pod_id: str) -> None:
        self._call("StopPodSandbox", _str(1, pod_id))

    def remove_pod_sandbox(self, pod_id: str) -> None:
        self._call("RemovePodSandbox", _str(1, pod_id))
