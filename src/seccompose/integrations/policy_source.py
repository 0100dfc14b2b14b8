r"""A policy file that may change while containers start: reload on change, keep the last good one.

``PolicySource.get()`` stats the file on every call (cheap) and loads it again when it
changed; a new file that does not load (deleted, half written, invalid) leaves the last good
policy in force and says why, once per change. With a ``state_dir`` the last good policy's
bytes are kept on disk too, so a process that starts after the file broke (the OCI runtime
wrapper runs once per container) still has it.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "p.yaml").write_text("unconfined: allow\n")
>>> source = PolicySource(d / "p.yaml")
>>> source.get().policy.unconfined
'allow'
>>> _ = (d / "p.yaml").write_text("unconfined: [\n")
>>> got = source.get()
>>> got.policy.unconfined, got.problem.startswith("kept the last good policy")
('allow', True)
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seccompose.policy import Policy

__all__ = ["Loaded", "PolicySource"]


@dataclass(frozen=True, slots=True)
class Loaded:
    """The policy in force, and why it is not the file's current content (``problem``; empty: it is)."""

    policy: Policy
    problem: str = ""
    changed: bool = False
    """Whether this call loaded a new policy (or found a new problem): worth a log line."""


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class PolicySource:
    """A policy file, reloaded when it changes; thread-safe."""

    def __init__(self, path: str | Path, *, state_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self.state_dir = Path(state_dir) if state_dir else None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int, int] | None = None
        self._good: Policy | None = None
        self._problem = ""

    @property
    def _kept(self) -> Path | None:
        if self.state_dir is None:
            return None
        key = hashlib.sha256(str(self.path.absolute()).encode()).hexdigest()[:16]
        return self.state_dir / f"policy-{key}.last-good"

    def reload(self) -> Loaded:
        """Load the file now, whether it changed or not (SIGHUP)."""
        with self._lock:
            self._stamp = None
        return self.get()

    def get(self) -> Loaded:
        """Return the policy in force, loading the file again if it changed.

        Raises:
            SeccomposeError: the file does not load and no good policy was ever loaded.
        """
        from seccompose.errors import SeccomposeError
        from seccompose.policy import load_policy

        with self._lock:
            stamp = _stamp(self.path)
            if stamp is not None and stamp == self._stamp and self._good is not None:
                return Loaded(self._good, self._problem)
            try:
                policy = load_policy(self.path)
            except SeccomposeError as exc:
                good = self._good or self._from_state()
                if good is None:
                    raise
                problem = f"kept the last good policy ({good.digest or 'loaded earlier'}): {exc}"
                changed = problem != self._problem
                self._good, self._problem, self._stamp = good, problem, stamp
                return Loaded(good, problem, changed)
            changed = self._good is None or policy.digest != self._good.digest or bool(self._problem)
            self._good, self._problem, self._stamp = policy, "", stamp
            self._keep(policy)
            return Loaded(policy, "", changed)

    def _keep(self, policy: Policy) -> None:
        kept = self._kept
        if kept is None:
            return
        try:
            data = self.path.read_bytes()
            if "sha256:" + hashlib.sha256(data).hexdigest() != policy.digest:
                return  # changed again since it was loaded: keep the older good copy
            if kept.exists() and kept.read_bytes() == data:
                return
            kept.parent.mkdir(parents=True, exist_ok=True)
            tmp = kept.with_name(kept.name + f".tmp-{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(kept)
        except OSError:
            return  # best effort: the policy in memory is still good

    def _from_state(self) -> Policy | None:
        from dataclasses import replace

        from seccompose.errors import SeccomposeError
        from seccompose.policy import load_policy

        kept = self._kept
        if kept is None or not kept.is_file():
            return None
        try:
            policy = load_policy(kept)
        except SeccomposeError:
            return None
        if policy.templates or "/" in policy.default:
            # Template files named in the kept copy are relative to the real file's folder.
            from seccompose.policy import Policy, read_policy_document

            try:
                _, doc = read_policy_document(kept)
                again = Policy.from_dict(doc, source=str(self.path), base_dir=self.path.parent)
            except (SeccomposeError, OSError, ValueError):
                return None
            return replace(again, digest=policy.digest)
        return replace(policy, source=str(self.path))
