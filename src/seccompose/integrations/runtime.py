"""``seccompose-runtime``: an OCI runtime giving each container the policy's profile, then running runc or crun.

A drop-in for runc's command line: every argument is passed to the real runtime unchanged.
Its own options come before the command (so they fit Docker's ``runtimeArgs`` and Podman's
``--runtime-flag``), as ``--opt VALUE`` or ``--opt=VALUE``:

- ``--seccompose-policy FILE``: the policy (else ``$SECCOMPOSE_POLICY``, else ``/etc/seccompose/policy.yaml``);
- ``--seccompose-runtime runc|crun|PATH``: the real runtime (else ``$SECCOMPOSE_RUNTIME``, else ``runc``);
- ``--seccompose-log FILE``: the decision log (else ``$SECCOMPOSE_LOG``, else ``/var/log/seccompose/decisions.jsonl``);
- ``--seccompose-state DIR``: the last good policy and the decision cache (else ``$SECCOMPOSE_STATE``,
  else ``state/`` beside the log).

On ``create`` and ``run`` it reads the bundle's ``config.json``, takes the container's facts
from it and from what the engine keeps beside it (``seccompose.integrations.bundle``), calls
``seccompose.decide.decide`` once, writes ``linux.seccomp`` back atomically (rename over the
file), logs the decision, and ``exec``s the real runtime. A refusal, or an error when the
policy says ``on_error: refuse``, fails the command with the reason, in runc's JSON log when
the engine asked for one (so ``docker run`` prints it). Every other command is passed through
as it is. Nothing here starts a container unconfined because seccompose failed: with
``on_error: engine-default`` the engine's own profile stays, and where the engine gave none the
container gets seccompose's ``default`` composed for its capabilities, or is refused.

Start-up: the import path is kept small (no policy parsing, no composition) for a container
whose facts were decided before under the same policy: decisions are pure, so they are cached
by the policy file's digest and the facts the policy can look at.
"""

from __future__ import annotations

import os
import sys

from seccompose.integrations import _fastjson as json  # json's own C code, without its 10 ms import

# CPython's built-in sha256, not hashlib's: hashlib loads OpenSSL (about 5 ms of every container start).
try:
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found]  # Python 3.11
    except ImportError:  # pragma: no cover - a Python built without them
        from hashlib import sha256 as _sha256

TYPE_CHECKING = False  # not typing's: its import costs every container start ~9 ms
if TYPE_CHECKING:
    from seccompose.decide import Facts

__all__ = ["main"]

DEFAULT_POLICY = "/etc/seccompose/policy.yaml"
DEFAULT_LOG = "/var/log/seccompose/decisions.jsonl"
_OWN = ("--seccompose-policy", "--seccompose-runtime", "--seccompose-log", "--seccompose-state")
# runc's and crun's global options that take a value as the next argument.
_GLOBAL_VALUE = frozenset(
    ("--log", "--log-format", "--root", "--criu", "--rootless", "--cgroup-manager", "--log-level")
)
# create's and run's options that take a value.
_CREATE_VALUE = frozenset(("--bundle", "-b", "--console-socket", "--pid-file", "--preserve-fds", "--config", "-f"))
_MAX_CONFIG = 64 << 20
"""config.json (the engine's; runc sets no limit): env, mounts and annotations can be large."""
_MAX_STATE = _MAX_CONFIG
"""The wrapper's own cached summaries and decisions (a decision holds its profile): one over it is a cache miss."""
_CACHE_SCHEMA = "1"


class _RefusedError(Exception):
    """The container must not start; the message says why."""


def split_argv(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """Return (seccompose's own options, the real runtime's arguments) from the command line.

    Own options are taken from before the command; everything else keeps its order.

    >>> split_argv(["--seccompose-policy", "p.yaml", "--root", "/r", "--seccompose-log=l", "create", "x"])
    ({'policy': 'p.yaml', 'log': 'l'}, ['--root', '/r', 'create', 'x'])
    """
    own: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    command_seen = False
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if not command_seen and name in _OWN:
            if not eq:
                if i + 1 >= len(argv):
                    raise SystemExit(f"seccompose-runtime: {name} needs a value")
                value = argv[i + 1]
                i += 1
            own[name.removeprefix("--seccompose-")] = value
        else:
            if not command_seen and not arg.startswith("-"):
                command_seen = True
            elif not command_seen and arg in _GLOBAL_VALUE and i + 1 < len(argv):
                rest.append(arg)
                i += 1
                arg = argv[i]
            rest.append(arg)
        i += 1
    return own, rest


def find_command(rest: list[str]) -> tuple[int, str]:
    """Return the index and name of the runtime command (``-1, ""`` when there is none).

    >>> find_command(["--root", "/r", "--log-format=json", "create", "--bundle", "b", "id"])
    (3, 'create')
    """
    i = 0
    while i < len(rest):
        arg = rest[i]
        if not arg.startswith("-"):
            return i, arg
        if arg in _GLOBAL_VALUE:
            i += 1
        i += 1
    return -1, ""


def _global_option(rest: list[str], end: int, name: str) -> str | None:
    for i in range(end):
        arg = rest[i]
        if arg == name and i + 1 < end:
            return rest[i + 1]
        if arg.startswith(name + "="):
            return arg.partition("=")[2]
    return None


def create_target(rest: list[str], index: int) -> tuple[str, str, str]:
    """Return (bundle, config path, container id) of a ``create``/``run`` command line.

    >>> create_target(["create", "--bundle", "/b", "--pid-file=/p", "c1"], 0)
    ('/b', '/b/config.json', 'c1')
    """
    bundle, config, cid = ".", "", ""
    i = index + 1
    while i < len(rest):
        arg = rest[i]
        name, eq, value = arg.partition("=")
        if arg.startswith("-") and name in _CREATE_VALUE:
            if not eq:
                i += 1
                value = rest[i] if i < len(rest) else ""
            if name in ("--bundle", "-b"):
                bundle = value
            elif name in ("--config", "-f"):
                config = value
        elif not arg.startswith("-"):
            cid = arg
        i += 1
    bundle = os.path.abspath(bundle)
    return bundle, config or os.path.join(bundle, "config.json"), cid


def _which(name: str) -> str:
    if "/" in name:
        return name
    for folder in os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        candidate = os.path.join(folder or ".", name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    for folder in ("/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(
        f"seccompose-runtime: the real runtime {name!r} is not on PATH; name it with --seccompose-runtime PATH"
    )


def _read_config(path: str) -> dict[str, object]:
    with open(path, "rb") as f:
        data = f.read(_MAX_CONFIG + 1)
    doc = json.parse(data, source=path, limit=_MAX_CONFIG)  # a typed error refuses the container
    if not isinstance(doc, dict):
        raise TypeError(f"{path} is not a JSON object")
    return doc


def _write_config(path: str, doc: dict[str, object]) -> None:
    # Renamed over the old file: the runtime reads the old file or the new one, never half of one. No fsync:
    # the bundle lives as long as the container (usually on tmpfs), and a crash loses the container anyway.
    data = json.dumps(doc).encode()
    tmp = f"{path}.seccompose-{os.getpid()}"
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _host_kernel() -> str:
    release = os.uname().release
    major, _, rest = release.partition(".")
    minor = "".join(c for c in rest.split(".")[0].split("-")[0] if c.isdigit())
    return f"{major}.{minor or 0}"


def _facts_dict(raw: dict[str, object]) -> dict[str, object]:
    """The facts as ``Facts.to_dict()`` writes them (pinned to it by tests/unit/test_runtime_wrapper.py)."""
    labels = raw.get("labels")
    caps = raw.get("capabilities")
    return {
        "engine": raw.get("engine", ""),
        "route": raw.get("route", ""),
        "container_id": raw.get("container_id", ""),
        "name": raw.get("name", ""),
        "image": raw.get("image", ""),
        "image_digest": raw.get("image_digest", ""),
        "labels": dict(sorted(labels.items())) if isinstance(labels, dict) else {},
        "namespace": raw.get("namespace", ""),
        "pod": raw.get("pod", ""),
        "arch": raw.get("arch", ""),
        "capabilities": sorted(caps) if isinstance(caps, list) else [],
        "privileged": bool(raw.get("privileged")),
        "no_new_privileges": bool(raw.get("no_new_privileges")),
        "user": raw.get("user", ""),
        "seccomp": raw.get("seccomp", "default"),
        "seccomp_digest": raw.get("seccomp_digest", ""),
        "runtime": raw.get("runtime"),
        "kernel": raw.get("kernel"),
    }


class _Wrapper:
    def __init__(self, own: dict[str, str], real: str) -> None:
        self.policy_path = own.get("policy") or os.environ.get("SECCOMPOSE_POLICY") or DEFAULT_POLICY
        self.log_path = own.get("log") or os.environ.get("SECCOMPOSE_LOG") or DEFAULT_LOG
        self.state = (
            own.get("state")
            or os.environ.get("SECCOMPOSE_STATE")
            or os.path.join(os.path.dirname(os.path.abspath(self.log_path)), "state")
        )
        self.real = real
        self.warnings: list[str] = []

    # The fast path: a decision made before for the same policy and the same relevant facts.
    def _summary_path(self, digest: str) -> str:
        return os.path.join(self.state, f"summary-{digest.removeprefix('sha256:')}.json")

    def _cache_key(self, digest: str, summary: dict[str, object], facts: dict[str, object]) -> str:
        label_keys = summary.get("label_keys")
        labels = facts.get("labels") if isinstance(facts.get("labels"), dict) else {}
        assert isinstance(labels, dict)  # noqa: S101 - narrowed above
        seen = {
            "image": facts["image"],
            "arch": facts["arch"],
            "capabilities": facts["capabilities"],
            "labels": {k: v for k, v in labels.items() if isinstance(label_keys, list) and k in label_keys},
            "name": facts["name"] if summary.get("names") else "",
            "namespace": facts["namespace"] if summary.get("namespaces") else "",
            "privileged": facts["privileged"],
            "no_new_privileges": facts["no_new_privileges"],
            "seccomp": facts["seccomp"],
            "runtime": facts["runtime"],
            "kernel": facts["kernel"],
        }
        from seccompose._version import __version__

        text = json.dumps([_CACHE_SCHEMA, __version__, digest, seen], sort_keys=True)
        return str(_sha256(text.encode()).hexdigest())

    def _cached(self, facts: dict[str, object]) -> tuple[dict[str, object], str | None] | None:
        try:
            with open(self.policy_path, "rb") as f:
                digest = "sha256:" + _sha256(f.read()).hexdigest()
            with open(self._summary_path(digest), "rb") as f:
                summary = json.parse(f.read(_MAX_STATE + 1), limit=_MAX_STATE)
            for path, size, mtime in summary.get("files", []):
                st = os.stat(path)
                if (st.st_size, st.st_mtime_ns) != (size, mtime):
                    return None
            key = self._cache_key(digest, summary, facts)
            with open(os.path.join(self.state, f"decision-{key}.json"), "rb") as f:
                entry = json.parse(f.read(_MAX_STATE + 1), limit=_MAX_STATE)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        record = entry["record"]
        record["facts"] = facts
        return record, entry.get("seccomp")

    def _store(self, policy: object, facts: dict[str, object], record: dict[str, object], seccomp: str | None) -> None:
        from seccompose.policy import Policy

        assert isinstance(policy, Policy)  # noqa: S101 - the caller's
        if not policy.digest:
            return
        files = [b.template for b in policy.templates] + [policy.default]
        stamps = []
        for path in files:
            if "/" in path or path.endswith(".json"):
                try:
                    st = os.stat(path)
                except OSError:
                    return
                stamps.append([path, st.st_size, st.st_mtime_ns])
        summary = {
            "names": any(r.scope.names for r in policy.rules),
            "namespaces": any(r.scope.namespaces for r in policy.rules),
            "label_keys": sorted({k for r in policy.rules for k, _ in r.scope.labels}),
            "files": stamps,
        }
        key = self._cache_key(policy.digest, summary, facts)
        try:
            os.makedirs(self.state, exist_ok=True)
            for path, doc in (
                (self._summary_path(policy.digest), summary),
                (os.path.join(self.state, f"decision-{key}.json"), {"record": record, "seccomp": seccomp}),
            ):
                tmp = f"{path}.tmp-{os.getpid()}"
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(json.dumps(doc))
                os.replace(tmp, path)
        except OSError as exc:
            self.warnings.append(f"decision cache not written: {exc}")

    # The slow path: load the policy (last good kept), build Facts, decide.
    @staticmethod
    def _facts(facts: dict[str, object]) -> Facts:
        from seccompose.decide import Facts

        return Facts(
            image=str(facts["image"]),
            arch=str(facts["arch"]),  # type: ignore[arg-type]  # Facts parses it
            capabilities=facts["capabilities"],  # type: ignore[arg-type]  # Facts parses them
            engine=str(facts["engine"]),
            route="runtime",
            container_id=str(facts["container_id"]),
            name=str(facts["name"]),
            image_digest=str(facts["image_digest"]),
            labels=tuple(facts["labels"].items()) if isinstance(facts["labels"], dict) else (),
            namespace=str(facts["namespace"]),
            pod=str(facts["pod"]),
            privileged=bool(facts["privileged"]),
            no_new_privileges=bool(facts["no_new_privileges"]),
            user=str(facts["user"]),
            seccomp=facts["seccomp"],  # type: ignore[arg-type]  # Facts checks it
            seccomp_digest=str(facts["seccomp_digest"]),
            runtime=facts["runtime"],  # type: ignore[arg-type]
            kernel=tuple(int(p) for p in str(facts["kernel"]).split(".")[:2]),  # type: ignore[arg-type]
        )

    def _decide(self, facts: dict[str, object]) -> tuple[dict[str, object], str | None, bool]:
        from seccompose.decide import decide, on_error
        from seccompose.errors import SeccomposeError
        from seccompose.integrations.policy_source import PolicySource

        try:
            value = self._facts(facts)
        except (SeccomposeError, ValueError, TypeError) as exc:
            record = on_error("engine-default", _minimal_facts(facts), exc).record()
            record["facts"] = facts
            return record, None, False
        try:
            loaded = PolicySource(self.policy_path, state_dir=self.state).get()
        except SeccomposeError as exc:
            self.warnings.append(f"no policy ({exc}); on_error: engine-default")
            return on_error("engine-default", value, exc).record(), None, False
        if loaded.problem:
            self.warnings.append(loaded.problem)
        policy = loaded.policy
        try:
            decision = decide(policy, value)
            seccomp = decision.seccomp_json() if decision.profile is not None else None
        except Exception as exc:  # noqa: BLE001 - any failure is a decision too: on_error
            policy_id = " ".join(p for p in (policy.source, policy.digest) if p)
            return on_error(policy.on_error, value, exc, policy=policy_id).record(), None, False
        record = decision.record()
        record["warnings"] = [*record["warnings"], *self.warnings]
        if not loaded.problem:
            self._store(policy, facts, decision.record(), seccomp)
        return record, seccomp, True

    def _agent_missing(
        self, record: dict[str, object], observe: dict[str, object], facts: dict[str, object]
    ) -> str | None:
        """Nothing answers on the agent's socket: the policy's ``agent_missing`` (runc would not start it)."""
        why = f"no seccomp agent answers on {observe.get('socket')}"
        warnings = record.get("warnings")
        if observe.get("agent_missing") == "refuse":
            record["action"] = "refuse"
            record["reason"] = f"{why} and the policy says agent_missing: refuse; start `seccompose agent` first"
            return None
        # enforce: the same profile without the listener (the same answers, no events); composed anew, so a
        # decision taken from the cache and one made now give the same bytes
        from seccompose.decide import decide

        try:
            from seccompose.integrations.policy_source import PolicySource

            loaded = PolicySource(self.policy_path, state_dir=self.state).get()
            decision = decide(loaded.policy, self._facts(facts))
            unobserved = decision.unobserved_json()
        except Exception as exc:  # noqa: BLE001 - refuse rather than start it unconfined or hang it
            record["action"] = "refuse"
            record["reason"] = f"{why}, and the unobserved profile failed ({type(exc).__name__}: {exc})"
            return None
        record["profile"] = "sha256:" + _sha256(unobserved.encode()).hexdigest()
        record["warnings"] = [
            *(warnings if isinstance(warnings, list) else []),
            f"{why}: started with the profile unobserved (agent_missing: enforce)",
        ]
        observe["agent"] = "missing"
        return unobserved

    def _engine_default(self, config: dict[str, object], facts: dict[str, object]) -> str | None:
        """The engine's own profile when it gave one; else ``default`` composed for the container; else None."""
        linux = config.get("linux")
        if isinstance(linux, dict) and isinstance(linux.get("seccomp"), dict):
            return None  # kept as the engine wrote it
        from seccompose.compose import compose

        profile = compose(
            "default",
            arch=str(facts["arch"]),
            caps=facts["capabilities"],  # type: ignore[arg-type]
            runtime=os.path.basename(self.real) if os.path.basename(self.real) in ("runc", "crun") else "runc",
            no_new_privileges=bool(facts["no_new_privileges"]),
        )
        from seccompose.formats import oci

        return json.dumps(oci.to_dict(profile))

    def prepare(self, config_path: str, bundle: str, cid: str) -> None:
        """Decide for the container in ``bundle`` and write its ``linux.seccomp``; raise _RefusedError to stop it."""
        from seccompose.integrations.bundle import facts_from_config

        config = _read_config(config_path)
        raw = facts_from_config(config, bundle=bundle, container_id=cid)
        base = os.path.basename(self.real)
        raw.update(
            arch=os.uname().machine,
            runtime=base if base in ("runc", "crun") else None,
            kernel=_host_kernel(),
            route="runtime",
        )
        facts = _facts_dict(raw)
        hit = self._cached(facts)
        if hit is not None:
            record, seccomp = hit
        else:
            record, seccomp, _ = self._decide(facts)
        observe = record.get("observe")
        if isinstance(observe, dict) and seccomp is not None and not _agent_answers(str(observe.get("socket"))):
            seccomp = self._agent_missing(record, observe, facts)
        action = record["action"]
        if action == "engine-default":
            try:
                seccomp = self._engine_default(config, facts)
            except Exception as exc:  # noqa: BLE001 - even the fallback failed: refuse, never unconfined
                record["action"] = "refuse"
                record["reason"] = f"{record['reason']}; the fallback profile failed too ({type(exc).__name__}: {exc})"
                action = "refuse"
            if seccomp is not None:
                record["profile"] = "sha256:" + _sha256(seccomp.encode()).hexdigest()
        if action in ("apply", "engine-default") and seccomp is not None:
            linux = config.setdefault("linux", {})
            if not isinstance(linux, dict):
                raise _RefusedError(f"{config_path}: 'linux' is not an object")
            linux["seccomp"] = json.parse(seccomp, limit=_MAX_CONFIG)
            _write_config(config_path, config)
        try:
            from seccompose.integrations.decisions import DecisionLog

            DecisionLog(self.log_path).record(record, seccomp)
        except OSError as exc:
            sys.stderr.write(f"seccompose-runtime: warning: decision log {self.log_path}: {exc}\n")
        if action == "refuse":
            raise _RefusedError(f"seccompose: container {cid} refused: {record['reason']}")


def _agent_answers(path: str) -> bool:
    """Whether something accepts connections on the seccomp agent's socket (runc and crun will connect to it)."""
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _minimal_facts(facts: dict[str, object]) -> Facts:
    from seccompose.arch import host_arch
    from seccompose.decide import Facts

    return Facts(image=str(facts.get("image", "")), arch=host_arch(), capabilities=frozenset())


def _report(rest: list[str], end: int, message: str) -> None:
    sys.stderr.write(message + "\n")
    log = _global_option(rest, end, "--log")
    if log and _global_option(rest, end, "--log-format") == "json":
        # containerd's shim and Docker show the runtime's last JSON log line as the error.
        import datetime as dt

        line = {"level": "error", "msg": message, "time": dt.datetime.now(dt.UTC).isoformat()}
        try:
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    """Run the wrapper; on success it does not return (it becomes the real runtime)."""
    args = sys.argv[1:] if argv is None else argv
    own, rest = split_argv(args)
    real = _which(own.get("runtime") or os.environ.get("SECCOMPOSE_RUNTIME") or "runc")
    index, command = find_command(rest)
    if command in ("create", "run"):
        bundle, config_path, cid = create_target(rest, index)
        wrapper = _Wrapper(own, real)
        try:
            wrapper.prepare(config_path, bundle, cid)
        except _RefusedError as exc:
            _report(rest, index, str(exc))
            return 1
        except Exception as exc:  # noqa: BLE001 - never start a container unconfined because seccompose failed
            _report(rest, index, f"seccompose-runtime: cannot prepare container {cid}: {type(exc).__name__}: {exc}")
            return 1
        for warning in wrapper.warnings:
            sys.stderr.write(f"seccompose-runtime: warning: {warning}\n")
    sys.stdout.flush()
    os.execv(real, [real, *rest])  # noqa: S606 - the real runtime, with the engine's arguments unchanged
    return 127  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
