"""What a server is fed and configured with, written once for both of its lives here: on the host
(``tools/record_templates.py``, issue 13) and in its image (``tools/image_recipes.py``, issue 18).

The two lives differ in ports, paths and users (the host keeps everything in a work directory and
listens on 28101-28120; the images keep the official paths and listen on 28400-28499), so each piece
takes those as arguments and keeps the rest — the site, the load, the configuration the server's
behaviour depends on — in one place: a change to what a server is made to do reaches both.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

IMAGES = Path(__file__).resolve().parent.parent / "images"


def write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` (making its folder) with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def site(work: Path) -> None:
    """A small static site in ``work/html``: an index page, a 1 MB file (sendfile), a text file (gzip).

    The folder is world-readable whatever the umask: the servers' workers read it as www-data.
    """
    html = work / "html"
    write(html / "index.html", "<html><body><h1>seccompose</h1></body></html>\n")
    write(html / "big.bin", "x" * (1 << 20))
    write(html / "words.txt", "lorem ipsum dolor sit amet\n" * 2000)
    html.chmod(0o755)


def http_load(port: int, *, origin: int, proxy: int | None = None, n: int = 2000, prefix: str = "") -> list[list[str]]:
    """ab and curl against ``site``: served on ``port``, or through the forward ``proxy`` from ``origin``.

    Keep-alive and plain ab (the event loop, sendfile of the 1 MB file), gzip (curl asks for it), a 404.
    """
    url = f"http://127.0.0.1:{origin if proxy else port}/{prefix}"
    via = ["-X", f"127.0.0.1:{proxy}"] if proxy else []
    curl_via = ["--proxy", f"http://127.0.0.1:{proxy}"] if proxy else []
    return [
        ["ab", "-q", "-n", str(n), "-c", "8", "-k", *via, url + "index.html"],
        ["ab", "-q", "-n", str(n // 10), "-c", "4", *via, url + "big.bin"],
        ["curl", "-fsS", "-o", "/dev/null", *curl_via, "-H", "Accept-Encoding: gzip", url + "words.txt"],
        ["curl", "-sS", "-o", "/dev/null", *curl_via, url + "missing"],
    ]


def redis_bench(port: int) -> list[list[str]]:
    """redis-benchmark: every command type one connection at a time, then pipelined writes and reads."""
    return [
        ["redis-benchmark", "-p", str(port), "-q", "-n", "10000", "-c", "10"],
        ["redis-benchmark", "-p", str(port), "-q", "-n", "10000", "-P", "16", "-t", "set,get,lpush,incr"],
    ]


def postgres_load(db: str) -> list[list[str]]:
    """A TPC-B like pgbench on ``db`` (initialised, then four clients), a checkpoint, vacuum and an index:
    each item is a client program's name and arguments, to which each caller adds its connection."""
    return [
        ["pgbench", "-q", "-i", "-s", "2", db],
        ["pgbench", "-c", "4", "-j", "2", "-t", "300", db],
        ["psql", "-q", "-c", "CHECKPOINT", "-c", "VACUUM ANALYZE", "-c", "CREATE INDEX ON pgbench_history (aid)", db],
    ]


def memcached_load(port: int) -> list[list[str]]:
    """memcslap's sets and gets (text protocol), a mixed binary-protocol run, stats and a flush."""
    servers = f"--servers=127.0.0.1:{port}"
    return [
        ["memcslap", servers, "--concurrency=4", "--execute-number=5000", "--test=set"],
        ["memcslap", servers, "--concurrency=4", "--execute-number=5000", "--test=get"],
        ["memcslap", servers, "--binary", "--concurrency=2", "--execute-number=2000"],
        ["memcstat", servers],
        ["memcflush", servers],
    ]


def mariadb_slap(port: int, *auth: str) -> list[str]:
    """mariadb-slap over TCP with ``auth`` (user, password options): four clients of generated SQL."""
    return [
        "mariadb-slap",
        "--protocol=tcp",
        "-h",
        "127.0.0.1",
        "-P",
        str(port),
        *auth,
        "--concurrency=4",
        "--iterations=2",
        "--auto-generate-sql",
        "--number-of-queries=1000",
        "--auto-generate-sql-add-autoincrement",
    ]


def memcached_stats(port: int) -> list[str]:
    """memcached's healthcheck: its images have no client, so bash's /dev/tcp, as their usual healthcheck."""
    return [
        "bash",
        "-c",
        f'exec 3<>/dev/tcp/127.0.0.1/{port} && printf "stats\\r\\nquit\\r\\n" >&3 && grep -q "^STAT pid" <&3',
    ]


def nginx_server(*, listen: str, root: str, indent: str | None = None) -> str:
    """nginx's server block for ``site``: on ``listen``, files from ``root`` with sendfile, gzip of text;
    on one line, or one directive a line indented by ``indent``."""
    directives = [
        f"listen {listen};",
        "server_name localhost;",
        f"root {root};",
        "sendfile on;",
        "tcp_nopush on;",
        "gzip on;",
        "gzip_types text/plain;",
        "location / { index index.html; }",
    ]
    if indent is None:
        return f"server {{ {' '.join(directives)} }}"
    return "server {\n" + "".join(f"{indent}{d}\n" for d in directives) + "}\n"


def haproxy_cfg(*, port: int, origin: int, stats_socket: str, global_lines: Sequence[str] = ()) -> str:
    """HAProxy in HTTP mode on 127.0.0.1:``port``: a health answer of its own, the rest round-robin to
    ``origin`` with a health check every second; an admin socket (what ``haproxy -c``, reloads and the
    healthcheck use)."""
    globals_ = "".join(f"  {line}\n" for line in (*global_lines, f"stats socket {stats_socket} mode 600 level admin"))
    return f"""global
{globals_}defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend fe
  bind 127.0.0.1:{port}
  http-request return status 200 content-type text/plain string ok if {{ path /healthz }}
  default_backend be
backend be
  balance roundrobin
  server s1 127.0.0.1:{origin} check inter 1s
"""


def squid_conf(*, http_port: str, lines: Sequence[str]) -> str:
    """Squid as a forward proxy on ``http_port`` for this machine only, no pinger, a quick stop; ``lines`` say
    where its cache, logs and pid go (the host's work directory, the image's volumes)."""
    return "\n".join(
        [
            f"http_port {http_port}",
            "visible_hostname localhost",
            *lines,
            "pinger_enable off",
            "shutdown_lifetime 1 seconds",
            "acl localnet src 127.0.0.0/8",
            "http_access allow localnet",
            "http_access deny all",
            "",
        ]
    )


def lighttpd_conf(*, root: str, port: int, run: str, logs: str, cache: str | None = None) -> str:
    """lighttpd on 127.0.0.1:``port`` serving ``root`` as www-data with mod_deflate (gzip, into ``cache``
    when given) and an access log; its pid file in ``run``, its logs in ``logs``."""
    cache_line = f'deflate.cache-dir = "{cache}"\n' if cache else ""
    return f"""server.document-root = "{root}"
server.port = {port}
server.bind = "127.0.0.1"
server.pid-file = "{run}/lighttpd.pid"
server.errorlog = "{logs}/error.log"
server.username = "www-data"
server.groupname = "www-data"
server.modules = ("mod_deflate", "mod_accesslog")
accesslog.filename = "{logs}/access.log"
{cache_line}deflate.mimetypes = ("text/plain", "text/html")
deflate.allowed-encodings = ("gzip")
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html", ".txt" => "text/plain", ".bin" => "application/octet-stream")
"""


def gunicorn_app(work: Path) -> None:
    """The WSGI app gunicorn serves: the one its image ships (``images/gunicorn/app.py``), in ``work``."""
    shutil.copyfile(IMAGES / "gunicorn" / "app.py", work / "app.py")


__all__ = [
    "IMAGES",
    "gunicorn_app",
    "haproxy_cfg",
    "http_load",
    "lighttpd_conf",
    "mariadb_slap",
    "memcached_load",
    "memcached_stats",
    "nginx_server",
    "postgres_load",
    "redis_bench",
    "site",
    "squid_conf",
    "write",
]
