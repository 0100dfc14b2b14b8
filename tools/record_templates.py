"""Record the shipped app templates from real servers: ``python tools/record_templates.py [NAME...]``.

Each server is started the way its official container image starts it (through a
``/bin/sh -c 'exec ...'`` entrypoint, in the foreground, with the image's reload and
stop signals), on loopback with its own config and data under ``--work``, traced with
``strace -f -qq``; then it gets a realistic workload from its own benchmark or client,
a reload, a little more work, and a clean shutdown. ``seccompose learn`` turns the
trace into ``data/templates/NAME.json`` with provenance and an aarch64 rule ported
from the x86_64 one.

Installs nothing. The Debian packages it needs (also in ``.ci/apt-packages``)::

    apt-get install strace nginx-light redis-server redis-tools postgresql memcached \\
        libmemcached-tools mariadb-server mariadb-client apache2 apache2-utils haproxy \\
        squid squidclient lighttpd lighttpd-mod-deflate gunicorn python3-gunicorn curl binutils

Debian starts some of these services on install unless ``/usr/sbin/policy-rc.d`` says
``exit 101``; this script needs none of them running. It uses its own ports, 28101-28120:
below the kernel's ephemeral range (32768-60999), so no client socket can be holding one.

The recipes (``SERVERS``) are also what ``tests/integration/test_templates_run.py``
runs under the composed profiles, so the proof exercises what was recorded.
Must run as root (the servers drop privileges to their Debian users, as the images do).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import http.server
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _client_output import output_problem
from _server_files import (
    gunicorn_app,
    haproxy_cfg,
    http_load,
    lighttpd_conf,
    mariadb_slap,
    memcached_load,
    memcached_stats,
    nginx_server,
    postgres_load,
    redis_bench,
    squid_conf,
)
from _server_files import site as _site
from _server_files import write as _write

ROOT = Path(__file__).resolve().parent.parent
BACKEND_PORT = 28120
ENTRYPOINT = ["/bin/sh", "-c", 'exec "$0" "$@"']
"""How an image's entrypoint script hands over to the server; traced, so the template covers it."""

Launch = Callable[[list[str], str | None, Path], subprocess.Popen[bytes]]
"""(argv, user, log file) -> the started process; recording wraps it in strace, the proof in a filter."""


@dataclass(frozen=True)
class Server:
    """How to run one server for a template: set-up, command, workload, reload and stop."""

    name: str
    package: str
    program: str
    port: int
    images: tuple[str, ...]
    argv: Callable[[Path], list[str]]
    workload: Callable[[Path], list[list[str]]]
    """Client commands; each must exit 0."""
    after_reload: Callable[[Path], list[list[str]]]
    admin: Callable[[Path], list[list[str]]] = lambda _work: []
    """The image's own healthcheck and admin commands (``docker exec``, ``HEALTHCHECK``): run beside the
    server, as its user, under its profile; each must exit 0. The first is the container's healthcheck."""
    caps: tuple[str, ...] = ()
    """The capabilities the server needs when the container runs with ``--cap-drop ALL`` (switching to its
    user, signalling its workers, owning its files)."""
    prepare: Callable[[Path], None] = lambda _work: None
    first_start: Callable[[Path], list[list[str]]] = lambda _work: []
    """Commands the image's entrypoint runs before the first start (initdb); traced too."""
    user: str | None = None
    reload_signal: signal.Signals | None = signal.SIGHUP
    stop_signal: signal.Signals = signal.SIGTERM
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def workload_text(self, work: Path) -> str:
        cmds = [shlex.join(c).replace(str(work), "$WORK") for c in self.workload(work)]
        admin = [
            f"(in the container) {shlex.join(c)}".replace(str(work), "$WORK") for c in health_and_admin(self, work)
        ]
        after = [shlex.join(c).replace(str(work), "$WORK") for c in self.after_reload(work)]
        reload = f"kill -{self.reload_signal.name}" if self.reload_signal else "(it has no reload signal)"
        return "; ".join([*cmds, *admin, reload, *after, f"kill -{self.stop_signal.name}"])


# --------------------------------------------------------------------------- helpers


def _chown(path: Path, user: str) -> None:
    for p in [path, *path.rglob("*")]:
        shutil.chown(p, user, user)


def _http(port: int, *, proxy: int | None = None, n: int = 2000) -> list[list[str]]:
    return http_load(port, origin=BACKEND_PORT, proxy=proxy, n=n)


@contextlib.contextmanager
def backend(work: Path) -> Iterator[None]:
    """A plain HTTP origin on BACKEND_PORT for the proxies (not traced: it is this process)."""
    _site(work)
    root = str(work / "html")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object) -> None:
            super().__init__(*args, directory=root)  # type: ignore[arg-type]

        def log_message(self, *_args: object) -> None:
            pass

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", BACKEND_PORT), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def server_pid(proc: subprocess.Popen[bytes]) -> int:
    """The server's pid: the process itself, strace's first child when traced, the container's init under runc.

    ``runc run`` forwards most signals to the container, but not SIGWINCH (httpd's graceful
    stop), which it keeps for a terminal: the signal goes to the container's process itself.
    ``docker run`` and ``podman run`` forward every signal the recipes send (sig-proxy).
    """
    args = [str(a) for a in proc.args] if isinstance(proc.args, list) else [""]
    if Path(args[0]).name == "runc" and "run" in args:
        state = subprocess.run(["runc", "state", args[-1]], capture_output=True, text=True, check=True).stdout
        pid: int = json.loads(state)["pid"]
        return pid
    if Path(args[0]).name != "strace":
        return proc.pid
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return int(children[0])


# --------------------------------------------------------------------------- recipes


def _nginx_prepare(work: Path) -> None:
    _site(work)
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / d).mkdir(exist_ok=True)
    _write(
        work / "nginx.conf",
        f"""user www-data;
worker_processes 2;
daemon off;
master_process on;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  access_log {work}/access.log;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  keepalive_timeout 5;
  {nginx_server(listen="127.0.0.1:28101", root=f"{work}/html")}
}}
""",
    )


def _redis_prepare(work: Path) -> None:
    _write(
        work / "redis.conf",
        f'port 28102\nbind 127.0.0.1\ndir {work}\nsave ""\nappendonly yes\ndaemonize no\nlogfile {work}/redis.log\n',
    )


def _redis_cli(*args: str) -> list[str]:
    return ["redis-cli", "-p", "28102", *args]


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _pg_prepare(work: Path) -> None:
    (work / "run").mkdir(exist_ok=True)
    _chown(work, "postgres")


def _pg(cmd: str, *args: str) -> list[str]:
    return [str(PG_BIN / cmd), "-h", "127.0.0.1", "-p", "28103", "-U", "postgres", *args]


def _maria_prepare(work: Path) -> None:
    (work / "data").mkdir(exist_ok=True)
    (work / "run").mkdir(exist_ok=True)
    _chown(work, "mysql")


def _maria(*args: str) -> list[str]:
    return ["mariadb", "--protocol=tcp", "-h", "127.0.0.1", "-P", "28105", "-uroot", *args]


def _httpd_prepare(work: Path) -> None:
    _site(work)
    # apachectl's environment (Debian reads it from /etc/apache2/envvars): its run and lock directories in
    # $WORK, made here, so apachectl finds them on the host and in a container alike.
    _write(
        work / "envvars",
        f"export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data APACHE_PID_FILE={work}/httpd.pid\n"
        f"export APACHE_RUN_DIR={work}/apache-run APACHE_LOCK_DIR={work}/apache-lock APACHE_LOG_DIR={work}\n",
    )
    (work / "apache-run" / "socks").mkdir(parents=True, exist_ok=True)
    (work / "apache-lock").mkdir(exist_ok=True)
    _chown(work / "apache-run" / "socks", "www-data")
    _chown(work / "apache-lock", "www-data")
    mods = "/usr/lib/apache2/modules"
    modules = ["mpm_event", "authz_core", "dir", "mime", "filter", "deflate", "log_config", "unixd", "status"]
    loads = "\n".join(f"LoadModule {m}_module {mods}/mod_{m}.so" for m in modules if m not in ("log_config", "unixd"))
    _write(
        work / "httpd.conf",
        f"""ServerRoot {work}
{loads}
Listen 127.0.0.1:28106
ServerName localhost
PidFile {work}/httpd.pid
DefaultRuntimeDir {work}
Mutex file:{work} default
ErrorLog {work}/error.log
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {work}/access.log common
User www-data
Group www-data
TypesConfig /etc/mime.types
DocumentRoot {work}/html
DirectoryIndex index.html
<Directory {work}/html>
  Require all granted
</Directory>
AddOutputFilterByType DEFLATE text/plain text/html
<Location /server-status>
  SetHandler server-status
</Location>
""",
    )


def _apachectl(work: Path) -> str:
    """Debian's apachectl for the server in ``work`` (as `apachectl ...` in the official image)."""
    return f'APACHE_ENVVARS={work}/envvars APACHE_ARGUMENTS="-f {work}/httpd.conf" exec apachectl'


def _haproxy_prepare(work: Path) -> None:
    cfg = haproxy_cfg(port=28107, origin=BACKEND_PORT, stats_socket=f"{work}/admin.sock",
                      global_lines=("user haproxy", "group haproxy", f"pidfile {work}/haproxy.pid"))  # fmt: skip
    _write(work / "haproxy.cfg", cfg)


def _squid_prepare(work: Path) -> None:
    lines = [
        f"pid_filename {work}/squid.pid",
        f"cache_log {work}/cache.log",
        f"access_log stdio:{work}/access.log",
        "cache_store_log none",
        f"coredump_dir {work}",
        "cache_effective_user proxy",
        "cache_mem 16 MB",
    ]
    _write(work / "squid.conf", squid_conf(http_port="127.0.0.1:28108", lines=lines))
    _chown(work, "proxy")


def _lighttpd_prepare(work: Path) -> None:
    _site(work)
    _write(work / "lighttpd.conf", lighttpd_conf(root=f"{work}/html", port=28109, run=str(work), logs=str(work)))
    _chown(work, "www-data")  # lighttpd opens its logs after dropping to www-data


def _gunicorn_prepare(work: Path) -> None:
    gunicorn_app(work)
    _chown(work, "www-data")


SERVERS: dict[str, Server] = {
    s.name: s
    for s in [
        Server(
            name="nginx",
            package="nginx-light",
            program="/usr/sbin/nginx",
            port=28101,
            images=("nginx", "nginx:*", "docker.io/library/nginx", "docker.io/library/nginx:*"),
            prepare=_nginx_prepare,
            argv=lambda w: ["/usr/sbin/nginx", "-e", f"{w}/error.log", "-p", str(w), "-c", f"{w}/nginx.conf"],
            workload=lambda _w: _http(28101),
            after_reload=lambda _w: _http(28101, n=200)[:1],
            reload_signal=signal.SIGHUP,
            stop_signal=signal.SIGQUIT,
            admin=lambda w: [
                ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28101/index.html"],
                ["/usr/sbin/nginx", "-t", "-q", "-e", f"{w}/error.log", "-p", str(w), "-c", f"{w}/nginx.conf"],
                ["/usr/sbin/nginx", "-s", "reload", "-e", f"{w}/error.log", "-p", str(w), "-c", f"{w}/nginx.conf"],
            ],
            caps=("CHOWN", "SETUID", "SETGID"),
            description="nginx (master + 2 workers as www-data) serving static files, sendfile and gzip",
        ),
        Server(
            name="redis",
            package="redis-server",
            program="/usr/bin/redis-server",
            port=28102,
            images=("redis", "redis:*", "docker.io/library/redis", "docker.io/library/redis:*"),
            prepare=_redis_prepare,
            argv=lambda w: ["/usr/bin/redis-server", f"{w}/redis.conf"],
            workload=lambda _w: [
                *redis_bench(28102),
                _redis_cli("BGSAVE"),
                ["sh", "-c", "sleep 1"],
                _redis_cli("BGREWRITEAOF"),
                ["sh", "-c", "sleep 1"],
            ],
            after_reload=lambda _w: [_redis_cli("CONFIG", "SET", "maxmemory", "64mb"), _redis_cli("CONFIG", "REWRITE")],
            reload_signal=None,
            admin=lambda _w: [_redis_cli("ping"), _redis_cli("INFO", "server")],
            description="redis-server with AOF, under redis-benchmark, BGSAVE and BGREWRITEAOF (forks)",
        ),
        Server(
            name="postgres",
            package="postgresql-15",
            program=str(PG_BIN / "postgres"),
            port=28103,
            images=("postgres", "postgres:*", "docker.io/library/postgres", "docker.io/library/postgres:*"),
            user="postgres",
            prepare=_pg_prepare,
            first_start=lambda w: [[str(PG_BIN / "initdb"), "-D", f"{w}/data", "-U", "postgres", "--auth=trust"]],
            argv=lambda w: [
                str(PG_BIN / "postgres"),
                "-D",
                f"{w}/data",
                "-p",
                "28103",
                "-k",
                f"{w}/run",
                "-c",
                "listen_addresses=127.0.0.1",
            ],
            workload=lambda _w: [
                *(_pg(*argv) for argv in postgres_load("postgres")),
            ],
            after_reload=lambda _w: [_pg("pgbench", "-c", "2", "-t", "100", "-S", "postgres")],
            reload_signal=signal.SIGHUP,
            stop_signal=signal.SIGINT,
            admin=lambda w: [
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", "28103", "-U", "postgres"],
                [str(PG_BIN / "pg_isready"), "-h", f"{w}/run", "-p", "28103", "-U", "postgres"],
                [str(PG_BIN / "psql"), "-h", f"{w}/run", "-p", "28103", "-U", "postgres", "-Atqc",
                 "SELECT count(*) FROM pg_stat_activity", "postgres"],
                [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", "28103", "-U", "postgres", "-qc",
                 "SELECT pg_reload_conf()", "postgres"],
            ],
            description="PostgreSQL 15: initdb, then the server under pgbench (TPC-B like), CHECKPOINT, VACUUM",
        ),
        Server(
            name="memcached",
            package="memcached",
            program="/usr/bin/memcached",
            port=28104,
            images=("memcached", "memcached:*", "docker.io/library/memcached", "docker.io/library/memcached:*"),
            argv=lambda _w: [
                "/usr/bin/memcached",
                "-u",
                "nobody",
                "-l",
                "127.0.0.1",
                "-p",
                "28104",
                "-U",
                "0",
                "-t",
                "4",
            ],
            workload=lambda _w: memcached_load(28104)[:-1],
            after_reload=lambda _w: memcached_load(28104)[-1:],  # the flush
            reload_signal=None,
            admin=lambda _w: [
                memcached_stats(28104),
            ],
            caps=("SETUID", "SETGID"),
            description="memcached with 4 threads under memcslap (text and binary protocol), stats, flush",
        ),
        Server(
            name="mariadb",
            package="mariadb-server",
            program="/usr/sbin/mariadbd",
            port=28105,
            images=("mariadb", "mariadb:*", "docker.io/library/mariadb", "docker.io/library/mariadb:*"),
            prepare=_maria_prepare,
            first_start=lambda w: [
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    "--user=mysql",
                    f"--datadir={w}/data",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
            ],
            argv=lambda w: [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={w}/data",
                f"--socket={w}/run/mysqld.sock",
                "--port=28105",
                "--bind-address=127.0.0.1",
                "--user=mysql",
                f"--pid-file={w}/run/mysqld.pid",
                f"--log-error={w}/error.log",
                "--skip-name-resolve",
            ],
            workload=lambda _w: [
                mariadb_slap(28105, "-uroot"),
                _maria(
                    "-e",
                    "CREATE DATABASE IF NOT EXISTS t; CREATE TABLE IF NOT EXISTS t.k (id INT PRIMARY KEY, v TEXT);"
                    " REPLACE INTO t.k VALUES (1, REPEAT('x', 5000)); SELECT COUNT(*) FROM t.k; OPTIMIZE TABLE t.k;",
                ),
            ],
            after_reload=lambda _w: [_maria("-e", "FLUSH PRIVILEGES; FLUSH TABLES; SELECT SLEEP(0.1);")],
            reload_signal=signal.SIGHUP,
            admin=lambda w: [
                ["mariadb-admin", "--protocol=tcp", "-h", "127.0.0.1", "-P", "28105", "-uroot", "ping"],
                ["mariadb-admin", f"--socket={w}/run/mysqld.sock", "-uroot", "status"],
                ["mariadb", f"--socket={w}/run/mysqld.sock", "-uroot", "-e", "SELECT VERSION()"],
            ],
            caps=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"),
            description="MariaDB: install-db, then mariadbd under mysqlslap (mariadb-slap), DDL, OPTIMIZE, FLUSH",
        ),
        Server(
            name="httpd",
            package="apache2",
            program="/usr/sbin/apache2",
            port=28106,
            images=("httpd", "httpd:*", "docker.io/library/httpd", "docker.io/library/httpd:*"),
            prepare=_httpd_prepare,
            argv=lambda w: ["/usr/sbin/apache2", "-f", f"{w}/httpd.conf", "-DFOREGROUND"],
            workload=lambda _w: [
                *_http(28106),
                ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28106/server-status"],
            ],
            after_reload=lambda _w: _http(28106, n=200)[:1],
            reload_signal=signal.SIGUSR1,
            stop_signal=signal.SIGWINCH,
            admin=lambda w: [
                ["sh", "-c", f"{_apachectl(w)} configtest"],
                ["sh", "-c", f"{_apachectl(w)} graceful"],
            ],
            caps=("SETUID", "SETGID", "KILL"),
            description="Apache httpd 2.4 (mpm_event, children as www-data) serving static files with deflate",
        ),
        Server(
            name="haproxy",
            package="haproxy",
            program="/usr/sbin/haproxy",
            port=28107,
            images=("haproxy", "haproxy:*", "docker.io/library/haproxy", "docker.io/library/haproxy:*"),
            prepare=_haproxy_prepare,
            argv=lambda w: ["/usr/sbin/haproxy", "-W", "-db", "-f", f"{w}/haproxy.cfg"],
            workload=lambda _w: [
                ["ab", "-q", "-n", "2000", "-c", "8", "-k", "http://127.0.0.1:28107/index.html"],
                ["ab", "-q", "-n", "200", "-c", "4", "http://127.0.0.1:28107/big.bin"],
                ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28107/healthz"],
            ],
            after_reload=lambda _w: [["ab", "-q", "-n", "200", "-c", "4", "http://127.0.0.1:28107/index.html"]],
            reload_signal=signal.SIGUSR2,
            stop_signal=signal.SIGUSR1,
            admin=lambda w: [["/usr/sbin/haproxy", "-c", "-q", "-f", f"{w}/haproxy.cfg"]],
            caps=("SETUID", "SETGID", "KILL"),
            description="HAProxy master-worker (as haproxy) proxying HTTP to a local origin, health checks, reload",
        ),
        Server(
            name="squid",
            package="squid",
            program="/usr/sbin/squid",
            port=28108,
            images=("squid", "squid:*", "ubuntu/squid", "ubuntu/squid:*", "docker.io/ubuntu/squid:*"),
            prepare=_squid_prepare,
            argv=lambda w: ["/usr/sbin/squid", "-N", "-f", f"{w}/squid.conf"],
            workload=lambda _w: _http(28108, proxy=28108, n=1000),
            after_reload=lambda _w: _http(28108, proxy=28108, n=100)[:1],
            reload_signal=signal.SIGHUP,
            # (squid -k check/reconfigure read the pid file and refuse the server's pid 1 in a container)
            admin=lambda w: [
                ["squidclient", "-h", "127.0.0.1", "-p", "28108", "mgr:info"],
                ["/usr/sbin/squid", "-k", "parse", "-f", f"{w}/squid.conf"],
            ],
            caps=("SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER"),
            description="Squid forward proxy (as proxy) with a memory cache, in front of a local origin",
        ),
        Server(
            name="lighttpd",
            package="lighttpd",
            program="/usr/sbin/lighttpd",
            port=28109,
            images=("lighttpd", "lighttpd:*", "*/lighttpd", "*/lighttpd:*"),
            prepare=_lighttpd_prepare,
            argv=lambda w: ["/usr/sbin/lighttpd", "-D", "-f", f"{w}/lighttpd.conf"],
            workload=lambda _w: _http(28109),
            after_reload=lambda _w: _http(28109, n=200)[:1],
            reload_signal=signal.SIGUSR1,
            stop_signal=signal.SIGINT,
            admin=lambda w: [
                ["/usr/sbin/lighttpd", "-tt", "-f", f"{w}/lighttpd.conf"],
                ["sh", "-c", f'kill -0 "$(cat {w}/lighttpd.pid)"'],
            ],
            # it opens its pid file in $WORK (www-data's) as root; the admin check signals the server as root
            caps=("SETUID", "SETGID", "DAC_OVERRIDE", "KILL"),
            description="lighttpd serving static files with mod_deflate, as www-data; graceful restart",
        ),
        Server(
            name="gunicorn",
            package="gunicorn",
            program="/usr/bin/gunicorn",
            port=28110,
            images=("gunicorn", "gunicorn:*", "*/gunicorn", "*/gunicorn:*"),
            user="www-data",
            prepare=_gunicorn_prepare,
            argv=lambda w: [
                "/usr/bin/gunicorn",
                "--chdir",
                str(w),
                "-b",
                "127.0.0.1:28110",
                "-w",
                "2",
                "--worker-tmp-dir",
                str(w),
                "--access-logfile",
                f"{w}/access.log",
                "--pid",
                f"{w}/gunicorn.pid",
                "app:app",
            ],
            workload=lambda w: [
                ["ab", "-q", "-n", "2000", "-c", "8", "-k", "http://127.0.0.1:28110/hello"],
                [
                    "ab",
                    "-q",
                    "-n",
                    "300",
                    "-c",
                    "4",
                    "-p",
                    f"{w}/app.py",
                    "-T",
                    "text/plain",
                    "http://127.0.0.1:28110/post",
                ],
            ],
            after_reload=lambda _w: [["ab", "-q", "-n", "200", "-c", "4", "http://127.0.0.1:28110/again"]],
            reload_signal=signal.SIGHUP,
            admin=lambda w: [
                [
                    "/usr/bin/python3",
                    "-c",
                    (
                        "import sys, urllib.request; sys.exit("
                        "urllib.request.urlopen('http://127.0.0.1:28110/health', timeout=5).status != 200)"
                    ),
                ],
                ["sh", "-c", f'kill -HUP "$(cat {w}/gunicorn.pid)"'],
            ],
            description="gunicorn (Python 3 WSGI server, 2 sync workers) serving a small JSON app",
        ),
    ]
}
PROXIED = {"haproxy", "squid"}
"""Servers that need the origin on BACKEND_PORT."""


# --------------------------------------------------------------------------- a session


def _run(cmd: Sequence[str], work: Path, timeout: float) -> None:
    try:
        done = subprocess.run(list(cmd), cwd=work, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"workload step timed out after {timeout}s: {shlex.join(cmd)}") from None
    out = (done.stdout + done.stderr).decode(errors="replace")
    problem = f"exit {done.returncode}" if done.returncode != 0 else output_problem(cmd, out)
    if problem:
        raise RuntimeError(f"workload step failed ({problem}): {shlex.join(cmd)}\n{out[-2000:]}")


LOCK = Path(tempfile.gettempdir()) / "seccompose-servers.lock"
"""Sessions use fixed ports: concurrent runs on one machine (two test runs) take turns."""


def session(
    server: Server, work: Path, launch: Launch, *, step_timeout: float = 120, admin: Launch | None = None
) -> None:
    """Run one server's life: first start, start, workload, admin commands, reload, more work, clean stop.

    ``launch`` starts each server-side command (the first-start ones and the server);
    ``admin`` (default: ``launch``) the image's healthcheck and admin commands beside the
    running server (``docker exec`` in a container); client commands run plain. Raises
    RuntimeError when a step fails.
    """
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _session(server, work, launch, step_timeout, admin or launch)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def health_and_admin(server: Server, work: Path) -> list[list[str]]:
    """The admin commands as a container runs them: the first as ``HEALTHCHECK CMD-SHELL`` does (``/bin/sh -c``,
    whose shell forks), then each as ``docker exec`` runs it."""
    commands = server.admin(work)
    return [["/bin/sh", "-c", shlex.join(commands[0])], *commands] if commands else []


def _launched(launch: Launch, cmd: list[str], user: str | None, log: Path, timeout: float, what: str) -> None:
    """Run one server-side command through ``launch`` to its end; it must exit 0."""
    proc = launch(cmd, user, log)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise RuntimeError(f"{what} timed out: {shlex.join(cmd)}") from None
    if proc.returncode != 0:
        text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"{what} failed ({proc.returncode}): {shlex.join(cmd)}\n{text}")


def _session(server: Server, work: Path, launch: Launch, step_timeout: float, admin: Launch) -> None:
    with backend(work) if server.name in PROXIED else contextlib.nullcontext():
        for i, cmd in enumerate(server.first_start(work)):
            _launched(launch, cmd, server.user, work / f"first-start-{i}.log", 300, "first-start step")
        proc = launch([*ENTRYPOINT, *server.argv(work)], server.user, work / "server.log")
        try:
            wait_port(server.port, proc)
            time.sleep(0.5)  # let workers finish starting
            for cmd in server.workload(work):
                _run(cmd, work, step_timeout)
            for i, cmd in enumerate(health_and_admin(server, work)):
                _launched(admin, cmd, server.user, work / f"admin-{i}.log", step_timeout, "admin command")
            wait_port(server.port, proc)  # an admin command may have reloaded it
            if server.reload_signal is not None:
                os.kill(server_pid(proc), server.reload_signal)
                time.sleep(2)
                wait_port(server.port, proc)
            for cmd in server.after_reload(work):
                _run(cmd, work, step_timeout)
            os.kill(server_pid(proc), server.stop_signal)
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"{server.name} did not stop within 60s of {server.stop_signal.name}") from None
        finally:
            # Each launch is its own session: kill whatever of the group is left, even after a clean
            # stop (a worker re-executed by a reload can outlive its master and hold the port), and a
            # server traced by a killed strace would otherwise live on, detached.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if code not in (0, -server.stop_signal, 128 + server.stop_signal):
            log = (work / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} did not stop cleanly (exit {code})\n{log}")


def fresh_workdir(base: Path, name: str) -> Path:
    work = base / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    work.chmod(0o755)
    return work


def package_version(package: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def trace_session(server: Server, base: Path) -> list[Path]:
    """Run one server's session under strace and the default profile in ``base/NAME``; return the traces.

    Under the profile a container would otherwise get (``default``, for Docker's default
    capabilities, as composed by seccompose), so the server takes the paths it takes in a
    container: a refused ``io_uring_setup`` makes MariaDB use Linux AIO, an ENOSYS ``clone3``
    makes glibc use ``clone``. strace shows the refused calls too; ``learn`` leaves out what
    ``default`` refuses and takes ``default``'s argument conditions for the rest.
    """
    sys.path.insert(0, str(ROOT / "src"))
    from seccompose import compose
    from seccompose.arch import host_arch
    from seccompose.check import popen_under
    from seccompose.formats.oci import to_dict

    under = to_dict(compose("default", arch=host_arch()))
    work = fresh_workdir(base, server.name)
    server.prepare(work)
    traces = work / "traces"
    traces.mkdir()
    counter = iter(range(100))

    def launch(argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        trace = traces / f"{server.name}-{next(counter)}.trace"
        strace = ["strace", "-f", "-qq", "-o", str(trace), *(["-u", user] if user else []), *argv]
        with log.open("wb") as out:
            return popen_under(
                under,
                strace,
                cwd=work,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **server.env},
                start_new_session=True,
            )

    session(server, work, launch, step_timeout=600)  # everything is slower under strace
    return sorted(traces.iterdir())


def record(server: Server, base: Path, out_dir: Path) -> Path:
    """Trace one server's session (``trace_session``) and learn its template."""
    sys.path.insert(0, str(ROOT / "src"))
    from seccompose.learn import learn

    traces = trace_session(server, base)
    work = base / server.name

    cmd = ["strace", "-f", "-qq", "-o", "TRACE", *(["-u", server.user] if server.user else []), *ENTRYPOINT]
    trace_command = shlex.join([*cmd, *server.argv(work)]).replace(str(work), "$WORK")
    firsts = [shlex.join(c).replace(str(work), "$WORK") for c in server.first_start(work)]
    if firsts:
        trace_command = "; ".join([*(f"strace -f -qq -o TRACE {f}" for f in firsts), trace_command])
    trace_command = f"under the default profile (seccompose compose --base default): {trace_command}"
    doc = learn(
        traces,
        program=server.program,
        version=f"{server.package} {package_version(server.package)}",
        workload=server.workload_text(work),
        name=server.name,
        images=server.images,
        description=server.description,
        trace_command=trace_command,
        tool=f"tools/record_templates.py {server.name}",
        progress=False,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{server.name}.json"
    _keep_phases(path, doc)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def _keep_phases(path: Path, doc: dict[str, object]) -> None:
    """Carry the startup phase (tools/record_phases.py) over a re-recording, keeping the names still allowed."""
    if not path.exists():
        return
    old = json.loads(path.read_text(encoding="utf-8"))
    startup = (old.get("phases") or {}).get("startup")
    if not startup:
        return
    rules = doc["rules"]
    assert isinstance(rules, list)
    # Only names allowed outright: a startup phase lets its names run whatever their arguments until the
    # container is ready, so a name the template allows under conditions or a capability (clone, socket,
    # clone3: default's rules) or refuses (io_uring_setup) stays out, or the template would be looser than
    # default while the container starts.
    allowed = {
        n
        for r in rules
        if r.get("action", "SCMP_ACT_ALLOW") == "SCMP_ACT_ALLOW" and not {"args", "includes", "excludes"} & set(r)
        for n in r["names"]
    }
    doc["phases"] = {"startup": {**startup, "names": [n for n in startup["names"] if n in allowed]}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help=f"servers to record (default: all): {', '.join(SERVERS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "templates")
    parser.add_argument("--work", type=Path, default=Path("/tmp/seccompose-record"))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: the servers switch to their own users as their images do")
    failed = 0
    for name in args.names or list(SERVERS):
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}; choose from {', '.join(SERVERS)}")
        started = time.monotonic()
        try:
            path = record(SERVERS[name], args.work, args.out)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed += 1
            continue
        doc = json.loads(path.read_text())
        sizes = ", ".join(f"{r['arches'][0]} {len(r['names'])}" for r in doc["rules"])
        print(f"{name}: {sizes} syscalls -> {path} ({time.monotonic() - started:.0f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
