"""Kernel versions as the engines compare them: major.minor.

Docker's ``minKernel`` (moby's ``KernelVersion``) and a host's kernel release are both
reduced to two numbers; a rule gated on a kernel compares those only. This module is
plain data with no third-party import, so commands that only need the running kernel
(``compose``) do not load the profile decoders.

>>> KernelVersion.parse("5.10") < KernelVersion.parse("6.1")
True
>>> kernel_version("6.18.44-cloud-amd64")
KernelVersion(major=6, minor=18)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from seccompose.errors import FormatError

__all__ = ["KernelVersion", "kernel_version"]

_RELEASE = re.compile(r"\s*(\d+)\.(\d+)")


@dataclass(frozen=True, slots=True, order=True)
class KernelVersion:
    """A kernel version as Docker's ``minKernel`` spells it: ``"<major>.<minor>"``; ordered by (major, minor)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> KernelVersion:
        """Parse ``"X.Y"`` exactly as moby does: two decimal numbers 0-255, not both 0; ``""`` is 0.0.

        Raises:
            ValueError: anything else (the caller adds the JSON path).

        >>> KernelVersion.parse("4.14")
        KernelVersion(major=4, minor=14)
        >>> KernelVersion.parse("")
        KernelVersion(major=0, minor=0)
        """
        if text == "":
            # moby leaves a zero version for "" and then compares against it: always satisfied.
            return cls(major=0, minor=0)
        parts = text.split(".")
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
            msg = f"minKernel {text!r} is not a kernel version; write '<major>.<minor>' such as '4.8'"
            raise ValueError(msg)
        major, minor = int(parts[0]), int(parts[1])
        if major > 255 or minor > 255 or (major, minor) == (0, 0):  # moby: 8-bit numbers
            msg = f"minKernel {text!r} is out of range; each number is 0-255 and '0.0' is not a version"
            raise ValueError(msg)
        return cls(major=major, minor=minor)

    @classmethod
    def from_release(cls, release: str) -> KernelVersion:
        """Return the major.minor of a kernel release such as ``"6.18.44-generic"`` (as moby's ``%d.%d``).

        Raises:
            ValueError: the text does not start with two dot-separated numbers.

        >>> KernelVersion.from_release("6.18.44-1-amd64")
        KernelVersion(major=6, minor=18)
        """
        found = _RELEASE.match(release)
        if not found:
            msg = f"kernel release {release!r} does not start with '<major>.<minor>'; use e.g. '6.18'"
            raise ValueError(msg)
        return cls(major=int(found.group(1)), minor=int(found.group(2)))

    def __str__(self) -> str:
        # moby writes the zero version (what "" reads as) back as "".
        return f"{self.major}.{self.minor}" if (self.major, self.minor) != (0, 0) else ""


def kernel_version(release: str | KernelVersion | None, *, location: str = "kernel") -> KernelVersion:
    """Return the major.minor of a kernel release (None: the running kernel, ``os.uname()``).

    Raises:
        FormatError: the text does not start with ``<major>.<minor>``.

    >>> kernel_version("6.18.44-cloud-amd64")
    KernelVersion(major=6, minor=18)
    """
    if isinstance(release, KernelVersion):
        return release
    text = os.uname().release if release is None else release
    try:
        return KernelVersion.from_release(text)
    except ValueError as exc:
        raise FormatError(str(exc), location=location) from None
