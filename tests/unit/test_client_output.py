"""tools/_client_output.py: the one rule by which the host recipes and the image legs judge a client's output.

The two copies it replaces (``record_templates._output_problem``, ``image_session.output_problem``)
differed: one honoured ``ab -l``, the other also read redis-cli and refused zero-length documents. The
rule is their union; each check has a case here, and each former caller is pinned to the one function.
"""

from __future__ import annotations

import pytest

from tests._tools import tool

client_output = tool("_client_output")
output_problem = client_output.output_problem


def ab(*, length: str = "45 bytes", done: int = 100, failed: str = "0", html: int = 4500, non2xx: int = 0) -> str:
    """An ab report as ab 2.3 prints it (the lines the rule reads, in ab's layout)."""
    lines = [
        "Document Path:          /index.html",
        f"Document Length:        {length}",
        "",
        "Concurrency Level:      8",
        f"Complete requests:      {done}",
        f"Failed requests:        {failed}",
    ]
    if non2xx:
        lines.append(f"Non-2xx responses:      {non2xx}")
    lines += [f"Total transferred:      {html + 200 * done} bytes", f"HTML transferred:       {html} bytes"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("argv", "out", "problem"),
    [
        (["ab", "-q", "-n", "100", "http://h/"], ab(), None),
        (["/usr/bin/ab", "-n", "100", "http://h/"], ab(), None),  # the tool by its base name
        (["ab", "-n", "100", "http://h/"], ab(failed="3\n   (Connect: 0, Receive: 0, Length: 3, Exceptions: 0)"),
         "ab saw failed or non-2xx requests"),
        (["ab", "-n", "100", "http://h/"], ab(non2xx=100), "ab saw failed or non-2xx requests"),
        (["ab", "-n", "100", "http://h/"], ab(done=0, html=0), "ab completed no request, or got no body"),
        # a zero-length norm: every answer a bodiless 200 (the host recipes' check)
        (["ab", "-n", "100", "http://h/"], ab(length="0 bytes", html=0), "ab completed no request, or got no body"),
        # headers and then no body for some: ab's own length check passes on the first answer's norm
        (["ab", "-n", "100", "http://h/big.bin"], ab(html=4000), "ab got empty or short bodies"),
        (["ab", "-n", "100", "http://h/"], ab(length="Variable"), "ab got empty or short bodies"),
        # -l: lengths vary by design; only the no-body check applies (the image legs' check)
        (["ab", "-q", "-l", "-n", "100", "http://h/work"], ab(length="Variable", html=12345), None),
        (["ab", "-q", "-l", "-n", "100", "http://h/work"], ab(length="Variable", html=0),
         "ab completed no request, or got no body"),
        (["ab", "-l", "-n", "100", "http://h/"], ab(non2xx=1), "ab saw failed or non-2xx requests"),
        (["ab", "-n", "100", "http://h/"], "apr_socket_recv: Connection refused (111)\n",
         "ab saw failed or non-2xx requests"),
        (["pgbench", "-c", "4"], ("number of transactions actually processed: 1200/1200\n"
                                  "number of failed transactions: 0 (0.000%)\n"), None),
        (["pgbench", "-c", "4"], "number of failed transactions: 7 (0.583%)\n", "pgbench saw failed transactions"),
        (["pgbench", "-i"], "done in 0.52 s\n", None),  # initialisation prints no transaction count
        # redis-cli is judged too (the host recipes read it; the image legs did not)
        (["redis-cli", "-p", "1", "ping"], "Could not connect to Redis at 127.0.0.1:1: Connection refused\n",
         "redis-cli reported an error"),
        (["redis-cli", "INFO", "persistence"], "rdb_last_bgsave_status:ok\naof_rewrites_consecutive_failures:0\n",
         None),  # field names are not words: "_failures"
        (["redis-benchmark", "-q"], "SET: 98039.22 requests per second\n", None),
        (["redis-benchmark", "-q"], "Error: Connection reset by peer\n", "redis-benchmark reported an error"),
        (["memcslap", "--test=get"], "Failure: connection failed\n", "memcslap reported an error"),
        (["memcflush", "--servers=h"], "", None),
        (["curl", "-fsS", "http://h/"], "error and failure are a page's words here\n", None),  # exit code judges
    ],
)
def test_the_union_of_both_former_checks(argv: list[str], out: str, problem: str | None) -> None:
    assert output_problem(argv, out) == problem


def test_every_former_caller_uses_the_one_rule() -> None:
    assert tool("image_session").output_problem is output_problem
    assert tool("record_templates").output_problem is output_problem
