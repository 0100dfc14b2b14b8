"""tools/_client_output.py reads the real ab's report: a page, an empty page, pages of varying length."""

from __future__ import annotations

import http.server
import itertools
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest
from tests._tools import tool

pytestmark = pytest.mark.integration

output_problem = tool("_client_output").output_problem
_count = itertools.count()


class _Pages(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        body = {"/page": b"seccompose\n" * 10, "/empty": b"", "/vary": b"x" * (next(_count) % 7 + 1)}.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    if shutil.which("ab") is None:
        pytest.skip("ab is not installed (apt-get install apache2-utils)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("flags", "path", "problem"),
    [
        ((), "/page", None),
        ((), "/empty", "ab completed no request, or got no body"),
        ((), "/missing", "ab saw failed or non-2xx requests"),
        ((), "/vary", "ab saw failed or non-2xx requests"),  # ab's own length check
        (("-l",), "/vary", None),
        (("-l",), "/empty", "ab completed no request, or got no body"),
    ],
)
def test_real_ab_reports(base: str, flags: tuple[str, ...], path: str, problem: str | None) -> None:
    argv = ["ab", "-q", *flags, "-n", "20", "-c", "2", base + path]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert output_problem(argv, done.stdout + done.stderr) == problem
