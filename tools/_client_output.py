"""Judge a workload client's output: shared by the host recipes (``tools/record_templates.py``) and the
image legs (``tools/image_session.py``), so a server passes or fails its workload by one rule.

Some clients exit 0 after the server failed them and say so only in text: ab counts failed and short
responses, pgbench failed transactions, the Redis and memcached clients print their errors. A
template recorded or proved on such a run would miss the calls the failed work needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

_ERRORS = re.compile(r"\b(error|fail(ed|ure)?|could not)\b", re.IGNORECASE)

ERROR_TEXT_CLIENTS = frozenset({"redis-benchmark", "redis-cli", "memcslap", "memcstat", "memcflush"})
"""Clients that report trouble in words and may still exit 0 (the benchmarks count on; redis-cli prints
a refused connection)."""


def _number(pattern: str, out: str) -> int | None:
    found = re.search(pattern, out)
    return int(found[1]) if found else None


def _ab_problem(argv: Sequence[str], out: str) -> str | None:
    # Failed requests counts connects, reads and length mismatches; a 4xx/5xx is not a failure to ab.
    if not re.search(r"Failed requests:\s+0\b", out) or "Non-2xx responses" in out:
        return "ab saw failed or non-2xx requests"
    # A run that completed nothing, or whose answers all came without a body, proves nothing of the
    # server's serving path (sendfile, gzip, the app).
    done = _number(r"Complete requests:\s+(\d+)", out)
    html = _number(r"HTML transferred:\s+(\d+) bytes", out)
    if not done or not html:
        return "ab completed no request, or got no body"
    # -l: the pages differ in length by design (ab prints "Document Length: Variable"), so there is no
    # per-document length to check the bytes against.
    if "-l" in argv:
        return None
    # ab takes the first response's length as the norm, and a server that sends headers and then no
    # body (sendfile refused) passes ab's own length check: the bytes must add up, and the norm must
    # not be an empty document.
    size = _number(r"Document Length:\s+(\d+) bytes", out)
    if not size or html != size * done:
        return "ab got empty or short bodies"
    return None


def output_problem(argv: Sequence[str], out: str) -> str | None:
    """Why a client (``argv``) that exited 0 still failed, from its ``out``put; None when it did not."""
    tool = Path(argv[0]).name
    if tool == "ab":
        return _ab_problem(argv, out)
    if tool == "pgbench":
        if "number of failed transactions" in out and not re.search(r"number of failed transactions: 0\b", out):
            return "pgbench saw failed transactions"
    elif tool in ERROR_TEXT_CLIENTS and _ERRORS.search(out):
        return f"{tool} reported an error"
    return None


__all__ = ["ERROR_TEXT_CLIENTS", "output_problem"]
