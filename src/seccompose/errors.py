"""Every exception seccompose raises.

Each error says what was wrong, where it was (a JSON path, a CLI flag, a file
and line) and how to fix it. The data is also kept on attributes so tools can
act on it. Each class also derives from the builtin it refines, so callers that
already catch ``ValueError`` or ``LookupError`` keep working.

>>> from seccompose import compose, Arch
>>> compose(arch=Arch.X86_64, allow=["opnat"])
Traceback (most recent call last):
...
seccompose.errors.UnknownSyscallError: unknown syscall 'opnat' at allow[0]; did you mean 'openat'?
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ArchMismatchError",
    "CapabilityMapNotFoundError",
    "ConflictError",
    "DocumentTooLargeError",
    "EngineRefusedError",
    "FormatError",
    "InvalidActionError",
    "InvalidArchError",
    "InvalidArgumentError",
    "InvalidCapabilityError",
    "InvalidEngineError",
    "InvalidProfileError",
    "InvalidProgramError",
    "InvalidRuntimeError",
    "LibseccompUnavailableError",
    "OutputError",
    "ProbeError",
    "SeccomposeError",
    "TemplateNotFoundError",
    "UnconfinedProfileError",
    "UnknownCategoryError",
    "UnknownSyscallError",
    "did_you_mean",
]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``.

    >>> did_you_mean("opnat", ["openat", "read"])
    "; did you mean 'openat'?"
    """
    import difflib  # only on the way to an error message

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _at(location: str | None) -> str:
    return f" at {location}" if location else ""


class SeccomposeError(Exception):
    """Base class of every error seccompose raises on purpose."""


class FormatError(SeccomposeError, ValueError):
    """A document is not valid JSON/YAML or does not have the expected shape."""

    def __init__(self, message: str, *, location: str | None = None, source: str | None = None) -> None:
        self.location = location
        self.source = source
        where = ""
        if source:
            where += f" in {source}"
        if location:
            where += f" at {location}"
        super().__init__(f"{message}{where}")


class InvalidProfileError(FormatError):
    """A profile document is well-formed JSON but breaks a seccomp rule."""


class DocumentTooLargeError(FormatError):
    """A document is over the size limit; it is refused before it is parsed (``size`` None: a stream)."""

    def __init__(self, size: int | None, limit: int, *, source: str | None = None, what: str = "document") -> None:
        self.size = size
        self.limit = limit
        env = "SECCOMPOSE_MAX_POLICY_BYTES" if what == "policy" else "SECCOMPOSE_MAX_INPUT_BYTES"
        fix = f"check that this is the right file, or raise the limit (seccompose --max-input-bytes, {env})"
        if size is None:
            message = f"document is over {limit:,} bytes, the limit for a {what}; {fix}"
        else:
            message = f"document is {size:,} bytes, over the {limit:,}-byte limit for a {what}; {fix}"
        super().__init__(message, source=source)


class InvalidProgramError(SeccomposeError, ValueError):
    """A BPF program is not one the kernel would accept as a seccomp filter."""

    def __init__(self, message: str, *, pc: int | None = None) -> None:
        self.pc = pc
        at = f" at instruction {pc}" if pc is not None else ""
        super().__init__(f"{message}{at}; the kernel refuses such a seccomp filter (EINVAL)")


class EngineRefusedError(InvalidProfileError):
    """Docker or Podman refuses a profile (its JSON decoder or setupSeccomp fails), or crashes on it."""

    def __init__(self, engine: str, reason: str, *, location: str | None = None, panic: bool = False) -> None:
        self.engine = engine
        self.reason = reason
        self.panic = panic
        name = {"docker": "Docker", "docker-20.10": "Docker 20.10", "podman": "Podman"}.get(engine, engine)
        if panic:
            how = "crashes" if engine == "podman" else "panics in its daemon (the container does not start)"
            message = f"{name} {how}: {reason}"
        else:
            message = f"{name} refuses the profile: {reason}"
        super().__init__(message, location=location)


class UnconfinedProfileError(InvalidProfileError):
    """A profile the engine reads as "no seccomp": the container would run without any filter."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        name = {"docker": "Docker", "docker-20.10": "Docker 20.10", "podman": "Podman"}.get(engine, engine)
        super().__init__(
            f"{name} reads a profile without defaultAction and syscalls as 'seccomp disabled': the container runs "
            "unconfined; set defaultAction (e.g. SCMP_ACT_ERRNO)"
        )


class InvalidEngineError(SeccomposeError, ValueError):
    """A container engine name is not one seccompose renders for (``docker``, ``podman``)."""

    def __init__(self, name: str, *, choices: Iterable[str] = (), location: str | None = None) -> None:
        self.name = name
        self.location = location
        choices = list(choices)
        super().__init__(f"unknown engine {name!r}{_at(location)}; use one of {', '.join(choices)}")


class UnknownSyscallError(SeccomposeError, LookupError):
    """A syscall name or number is unknown (on every arch, or on the one asked for)."""

    def __init__(
        self,
        name: str,
        *,
        arch: str | None = None,
        location: str | None = None,
        choices: Iterable[str] = (),
    ) -> None:
        self.name = name
        self.arch = arch
        self.location = location
        on = f" for {arch}" if arch else ""
        super().__init__(f"unknown syscall {name!r}{on}{_at(location)}{did_you_mean(name, choices)}")

    def __str__(self) -> str:  # LookupError would otherwise repr() the message
        return str(self.args[0])


class InvalidArchError(SeccomposeError, ValueError):
    """An architecture name is not one seccompose (or the OCI spec) knows."""

    def __init__(self, name: str, *, location: str | None = None, choices: Iterable[str] = ()) -> None:
        self.name = name
        self.location = location
        choices = list(choices)
        hint = did_you_mean(name, choices) or f"; use one of {', '.join(choices)}"
        super().__init__(f"unknown architecture {name!r}{_at(location)}{hint}")


class InvalidActionError(SeccomposeError, ValueError):
    """A seccomp action (``SCMP_ACT_*``) or its errno is invalid."""

    def __init__(self, message: str, *, location: str | None = None, hint: str = "") -> None:
        self.location = location
        super().__init__(f"{message}{_at(location)}{hint}")


class InvalidArgumentError(SeccomposeError, ValueError):
    """An argument condition is invalid (index, operator or value)."""

    def __init__(self, message: str, *, location: str | None = None, hint: str = "") -> None:
        self.location = location
        super().__init__(f"{message}{_at(location)}{hint}")


class InvalidCapabilityError(SeccomposeError, LookupError):
    """A Linux capability name is unknown."""

    def __init__(self, name: str, *, location: str | None = None, choices: Iterable[str] = ()) -> None:
        self.name = name
        self.location = location
        super().__init__(f"unknown capability {name!r}{_at(location)}{did_you_mean(name.upper(), choices)}")

    def __str__(self) -> str:
        return str(self.args[0])


class TemplateNotFoundError(SeccomposeError, LookupError):
    """A template name is neither a shipped template nor a readable file."""

    def __init__(self, name: str, *, choices: Iterable[str] = ()) -> None:
        self.name = name
        choices = sorted(choices)
        hint = did_you_mean(name, choices) or (f"; shipped templates: {', '.join(choices)}" if choices else "")
        super().__init__(f"no template or profile file named {name!r}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class ArchMismatchError(SeccomposeError, ValueError):
    """Two values for different architectures were combined."""

    def __init__(self, left: str, right: str) -> None:
        self.left = left
        self.right = right
        super().__init__(
            f"cannot combine a SyscallSet for {left} with one for {right}; build both for the same arch"
        )


class ConflictError(SeccomposeError, ValueError):
    """Two inputs contradict each other and no precedence rule settles it."""

    def __init__(self, message: str, *, location: str | None = None, hint: str = "") -> None:
        self.location = location
        super().__init__(f"{message}{_at(location)}{hint}")


class CapabilityMapNotFoundError(SeccomposeError, LookupError):
    """A capability map name (``docker``, ``kernel``) is not one seccompose ships."""

    def __init__(self, name: str, *, location: str | None = None, choices: Iterable[str] = ()) -> None:
        self.name = name
        self.location = location
        choices = sorted(choices)
        hint = did_you_mean(name, choices) or f"; use one of {', '.join(choices)}"
        super().__init__(f"unknown capability map {name!r}{_at(location)}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownCategoryError(SeccomposeError, LookupError):
    """A syscall category name is not one seccompose defines."""

    def __init__(self, name: str, *, location: str | None = None, choices: Iterable[str] = ()) -> None:
        self.name = name
        self.location = location
        choices = sorted(choices)
        hint = did_you_mean(name, choices) or f"; use one of {', '.join(choices)}"
        super().__init__(f"unknown syscall category {name!r}{_at(location)}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class LibseccompUnavailableError(SeccomposeError, ImportError):
    """The optional ``check`` extra is missing: pyseccomp or the system libseccomp.so.2."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"compiling with the real libseccomp needs pyseccomp and libseccomp.so.2 ({detail}); "
            "install them with: pip install 'seccompose[check]' and apt-get install libseccomp2"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class ProbeError(SeccomposeError, OSError):
    """The kernel probe could not run (no seccomp, filter refused, child died)."""

    def __init__(self, message: str, *, arch: str | None = None) -> None:
        self.arch = arch
        on = f" on {arch}" if arch else ""
        super().__init__(f"kernel probe{on} failed: {message}")

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidRuntimeError(SeccomposeError, ValueError):
    """An OCI runtime name is not one seccompose has a measured base set for."""

    def __init__(self, name: str, *, choices: Iterable[str] = (), location: str | None = None) -> None:
        self.name = name
        self.location = location
        choices = sorted(choices)
        hint = did_you_mean(name, choices) or f"; use one of {', '.join(choices)} (comma-separated for several)"
        where = f" at {location}" if location else ""
        super().__init__(f"no runtime base set for {name!r}{where}{hint}")


class OutputError(SeccomposeError, OSError):
    """An output file (``-o``) cannot be written; a file that was there is left as it was."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"cannot write {path}: {reason}")

    def __str__(self) -> str:
        return str(self.args[0])
