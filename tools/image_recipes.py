"""How each template's image is run, fed and checked: the data of ``tools/image_session.py``.

One ``Recipe`` per app template. The image is ``images/NAME/`` (a Dockerfile over the shared
Debian root filesystem of ``tools/images.py``, with an entrypoint of the project's own doing what
the official image's does), tagged with the official name. A recipe says how a user would run
it here — environment, arguments, configuration files mounted over the image's, data volumes —
and what a realistic life of the container is:

- ``workload``: clients (ab, pgbench, redis-benchmark, ... and the small scripts in
  ``tools/workloads/``) run from a client container (the same root filesystem, tagged
  ``seccompose-client``, under Docker's default profile) on the host network, or ``docker``
  itself (the registry gets images pushed and pulled);
- ``admin``: the image's healthcheck (the first) and admin commands, through ``docker exec``;
- ``restart``: after a restart on the same volumes, what must still be there (the rows, the
  retained message, the pushed image);
- ``caps``: the capabilities the image needs under ``--cap-drop ALL`` (None: it is not run that
  way: the official image needs Docker's defaults);
- ``soak``: the five-minute workload of the JVM, Erlang and Node.js images (garbage collection
  and thread churn), and ``stats``, which reports both.

Every server listens on the host network on its own port in 28400-28499 (this work's range),
not the image's default, so nothing collides with the host's services: the ports are set the
way the images let users set them (environment, arguments, a mounted configuration file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from _server_files import (
    haproxy_cfg,
    lighttpd_conf,
    mariadb_slap,
    memcached_load,
    memcached_stats,
    nginx_server,
    postgres_load,
    redis_bench,
    site,
    squid_conf,
)
from _server_files import http_load as _http_argvs
from _server_files import write as _write

ORIGIN_PORT = 28499
"""A plain HTTP origin (a thread of the test process) for the proxies and caches."""

CLIENT_IMAGE = "seccompose-client"
"""The root filesystem itself, tagged under a name no template claims: clients run under Docker's default."""

PROBE_DIR = "/seccompose-probe"
"""Where the static test programs are mounted in the server's container (proofs only)."""


@dataclass(frozen=True)
class Step:
    """One command of a container's life.

    ``where``: ``client`` (a client container), ``exec`` (``docker exec`` into the server's
    container) or ``docker`` (the docker CLI itself, e.g. ``push``). The command must exit 0;
    ``expect``: a text its output must contain.
    """

    argv: tuple[str, ...]
    where: str = "client"
    env: tuple[tuple[str, str], ...] = ()
    expect: str | None = None
    timeout: float = 300
    settle: float = 0
    """Seconds to wait after it (a reload finishing before the next step)."""

    def text(self) -> str:
        """The step as the provenance and the catalogue show it."""
        import shlex

        env = " ".join(f"{k}={v}" for k, v in self.env)
        cmd = shlex.join(self.argv)
        prefix = {"client": "", "exec": "docker exec C ", "docker": "docker "}[self.where]
        return f"{prefix}{env + ' ' if env else ''}{cmd}"


def client(*argv: str, env: Mapping[str, str] | None = None, expect: str | None = None, timeout: float = 300) -> Step:
    """A client command, run in a client container on the host network."""
    return Step(tuple(argv), "client", tuple((env or {}).items()), expect, timeout)


def exec_(*argv: str, env: Mapping[str, str] | None = None, expect: str | None = None, timeout: float = 180,
          settle: float = 0) -> Step:  # fmt: skip
    """A command run inside the server's container (``docker exec``)."""
    return Step(tuple(argv), "exec", tuple((env or {}).items()), expect, timeout, settle)


def reload(*argv: str) -> Step:
    """A reload through ``docker exec``, then time for it to finish (a stop signal that arrives while
    the server re-executes itself as the container's first process is lost)."""
    return exec_(*argv, settle=3)


def docker(*argv: str, expect: str | None = None, timeout: float = 300) -> Step:
    """A docker CLI command against the engine running the server."""
    return Step(tuple(argv), "docker", (), expect, timeout)


@dataclass(frozen=True)
class Mount:
    """A file or folder of the work directory mounted into the container (read-only unless said)."""

    source: str
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class Volume:
    """A data volume: an empty folder of the host owned by root (the entrypoint must take it over),
    or ``named``: a fresh docker volume, which docker fills from the image (as ``docker run -v
    name:/path`` does)."""

    target: str
    named: bool = False


@dataclass(frozen=True)
class Recipe:
    """How one template's image runs here, and its life (see the module's documentation)."""

    name: str
    tag: str
    packages: tuple[str, ...]
    """The Debian packages the server comes from (in the image; their versions go into the template)."""
    program: str
    description: str
    images: tuple[str, ...]
    entrypoint: str
    """The entrypoint's steps this image performs, as the catalogue lists them."""
    port: int
    workload: tuple[Step, ...]
    admin: tuple[Step, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    """The container's command (after the image name); empty: the image's CMD."""
    files: Callable[[Path], None] = lambda _work: None
    """Writes the files ``mounts`` name into the work directory."""
    mounts: tuple[Mount, ...] = ()
    volumes: tuple[Volume, ...] = ()
    user: str | None = None
    restart: tuple[Step, ...] = ()
    caps: tuple[str, ...] | None = None
    first_steps: int = 1
    """How many workload steps the --cap-drop ALL leg runs (enough for the admin commands to have work)."""
    origin: bool = False
    sidecar: tuple[str, ...] = ()
    """A command run in a client container beside the server for the whole life (a front proxy)."""
    soak: tuple[Step, ...] = ()
    stats: Step | None = None
    ready_timeout: float = 180
    allowed_log_lines: tuple[str, ...] = ()
    """Texts in the server's output that look like a refusal but are not (e.g. a capability it lacks by design)."""

    @property
    def context(self) -> Path:
        """The image's build context (its Dockerfile and the entrypoint)."""
        return Path(__file__).resolve().parent.parent / "images" / self.name

    def workload_text(self) -> str:
        """The whole life as one line, for the template's provenance."""
        parts = [s.text() for s in self.workload] + [s.text() for s in self.admin]
        if self.restart:
            parts += ["(restart on the same volumes)", *(s.text() for s in self.restart)]
        return "; ".join(parts)


def _official(name: str) -> tuple[str, ...]:
    return (name, f"{name}:*", f"docker.io/library/{name}", f"docker.io/library/{name}:*")


# --------------------------------------------------------------------------- shared content


def http_load(port: int, *, proxy: int | None = None, n: int = 2000, prefix: str = "") -> tuple[Step, ...]:
    """ab and curl against a static site (through ``proxy`` when given)."""
    return tuple(client(*argv) for argv in _http_argvs(port, origin=ORIGIN_PORT, proxy=proxy, n=n, prefix=prefix))


# --------------------------------------------------------------------------- the twenty images


def _nginx_files(work: Path) -> None:
    site(work)
    # the entrypoint fills in NGINX_PORT (envsubst)
    conf = nginx_server(listen="${NGINX_PORT}", root="/usr/share/nginx/html", indent="    ")
    _write(work / "templates" / "default.conf.template", conf)


NGINX = Recipe(
    name="nginx",
    tag="nginx:1.22",
    packages=("nginx-light",),
    program="/usr/sbin/nginx",
    description="nginx (master as root, workers as www-data) serving static files with sendfile and gzip, "
    "its port from a template the entrypoint fills in",
    images=_official("nginx"),
    entrypoint="/docker-entrypoint.sh runs /docker-entrypoint.d/*.sh: listen on IPv6 (10), envsubst of "
    "/etc/nginx/templates into conf.d (20), worker_processes from the cgroup's CPUs (30); exec nginx",
    port=28400,
    env={"NGINX_PORT": "28400", "NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE": "1"},
    files=_nginx_files,
    mounts=(Mount("html", "/usr/share/nginx/html"), Mount("templates", "/etc/nginx/templates")),
    workload=http_load(28400),
    admin=(
        exec_("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28400/index.html"),
        exec_("nginx", "-t", "-q"),
        reload("nginx", "-s", "reload"),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28400/index.html", expect="seccompose"),),
    caps=("CHOWN", "SETUID", "SETGID"),
)


REDIS = Recipe(
    name="redis",
    tag="redis:7",
    packages=("redis-server", "redis-tools"),
    program="/usr/bin/redis-server",
    description="redis-server with AOF on /data, under redis-benchmark, BGSAVE and BGREWRITEAOF (forks)",
    images=_official("redis"),
    entrypoint="chown of the working directory (/data) to redis, gosu redis, umask 0077; exec redis-server",
    port=28404,
    args=("redis-server", "--port", "28404", "--appendonly", "yes"),
    volumes=(Volume("/data"),),
    workload=(
        *(client(*argv) for argv in redis_bench(28404)),
        client("redis-cli", "-p", "28404", "SET", "seccompose:kept", "across-restarts", expect="OK"),
        client("redis-cli", "-p", "28404", "BGSAVE"),
        client("sh", "-c", "sleep 1"),
        client("redis-cli", "-p", "28404", "BGREWRITEAOF"),
        client("sh", "-c", "sleep 1"),
    ),
    admin=(
        exec_("redis-cli", "-p", "28404", "ping", expect="PONG"),
        exec_("redis-cli", "-p", "28404", "INFO", "persistence"),
        exec_("redis-cli", "-p", "28404", "CONFIG", "SET", "maxmemory", "64mb"),
    ),
    restart=(client("redis-cli", "-p", "28404", "GET", "seccompose:kept", expect="across-restarts"),),
    caps=("CHOWN", "SETUID", "SETGID"),
)


def _pg_files(work: Path) -> None:
    _write(
        work / "initdb" / "10-schema.sql",
        "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\n"
        "INSERT INTO notes (body) VALUES ('written by /docker-entrypoint-initdb.d');\n",
    )
    _write(work / "initdb" / "20-hello.sh", 'echo "initdb.d script ran as $(id -un)"\n', 0o755)


def _pg(cmd: str, *args: str) -> Step:
    return client(cmd, "-h", "127.0.0.1", "-p", "28408", "-U", "postgres", *args, env={"PGPASSWORD": "seccompose"})


POSTGRES = Recipe(
    name="postgres",
    tag="postgres:15",
    packages=("postgresql-15", "postgresql-client-15"),
    program="/usr/lib/postgresql/15/bin/postgres",
    description="PostgreSQL 15: the entrypoint's initdb and set-up, then the server under pgbench (TPC-B like), "
    "CHECKPOINT, VACUUM",
    images=_official("postgres"),
    entrypoint="POSTGRES_* settings (and *_FILE secrets); mkdir/chmod/chown of PGDATA and the socket folder; "
    "gosu postgres; first start: initdb with the password, pg_hba for remote logins, a socket-only server, "
    "CREATE DATABASE, /docker-entrypoint-initdb.d/*.sql and *.sh, stop; exec postgres",
    port=28408,
    env={"POSTGRES_PASSWORD": "seccompose", "POSTGRES_DB": "app"},
    args=("postgres", "-p", "28408"),
    files=_pg_files,
    mounts=(Mount("initdb", "/docker-entrypoint-initdb.d"),),
    volumes=(Volume("/var/lib/postgresql/data"),),
    workload=(
        *(_pg(*argv) for argv in postgres_load("app")),
        _pg("psql", "-q", "-c", "INSERT INTO notes (body) VALUES ('written by the workload')", "app"),
    ),
    admin=(
        exec_("pg_isready", "-h", "127.0.0.1", "-p", "28408", "-U", "postgres"),
        exec_("psql", "-p", "28408", "-U", "postgres", "-Atqc", "SELECT count(*) FROM pg_stat_activity", "app"),
        exec_("psql", "-p", "28408", "-U", "postgres", "-qc", "SELECT pg_reload_conf()", "app"),
    ),
    restart=(_pg("psql", "-Atqc", "SELECT count(*) FROM notes", "app"),),
    caps=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"),
)


MEMCACHED = Recipe(
    name="memcached",
    tag="memcached:1.6",
    packages=("memcached",),
    program="/usr/bin/memcached",
    description="memcached (as memcache) with 4 threads under memcslap (text and binary protocol), stats, flush",
    images=_official("memcached"),
    entrypoint="options as the first argument run memcached with them; the image runs as memcache",
    port=28412,
    args=("-p", "28412", "-U", "0", "-t", "4", "-m", "64"),
    workload=(
        *(client(*argv) for argv in memcached_load(28412)),
    ),
    admin=(
        exec_(*memcached_stats(28412)),
    ),
    caps=(),
)


def _maria_files(work: Path) -> None:
    _write(
        work / "initdb" / "10-schema.sql",
        "CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL);\n"
        "INSERT INTO notes (body) VALUES ('written by /docker-entrypoint-initdb.d');\n",
    )


def _maria(*args: str, expect: str | None = None) -> Step:
    return client("mariadb", "--protocol=tcp", "-h", "127.0.0.1", "-P", "28416", "-uapp", "-papp-secret", "app", *args,
                  expect=expect)  # fmt: skip


MARIADB = Recipe(
    name="mariadb",
    tag="mariadb:10.11",
    packages=("mariadb-server", "mariadb-client"),
    program="/usr/sbin/mariadbd",
    description="MariaDB 10.11: the entrypoint's install-db and set-up (users, database, time zones, healthcheck "
    "user), then mariadbd under mariadb-slap, DDL, OPTIMIZE; mariadb-upgrade on the restart",
    images=_official("mariadb"),
    entrypoint="mariadbd --verbose --help for the config; MARIADB_*/MYSQL_* settings (*_FILE secrets); chown of "
    "the data and socket folders, memory.pressure; gosu mysql; first start: mariadb-install-db, a socket-only "
    "server, time zones, root@%, the healthcheck user and .my-healthcheck.cnf, MARIADB_DATABASE/USER, "
    "/docker-entrypoint-initdb.d/*.sql, stop; restart: mariadb-upgrade (MARIADB_AUTO_UPGRADE); exec mariadbd",
    port=28416,
    env={
        "MARIADB_ROOT_PASSWORD": "seccompose",
        "MARIADB_DATABASE": "app",
        "MARIADB_USER": "app",
        "MARIADB_PASSWORD": "app-secret",
        "MARIADB_AUTO_UPGRADE": "1",
    },
    args=("mariadbd", "--port=28416"),
    files=_maria_files,
    mounts=(Mount("initdb", "/docker-entrypoint-initdb.d"),),
    volumes=(Volume("/var/lib/mysql"),),
    workload=(
        client(*mariadb_slap(28416, "-uroot", "-pseccompose")),
        _maria(
            "-e",
            "CREATE TABLE IF NOT EXISTS k (id INT PRIMARY KEY, v TEXT); REPLACE INTO k VALUES (1, REPEAT('x', 5000));"
            " SELECT COUNT(*) FROM k; OPTIMIZE TABLE k; INSERT INTO notes (body) VALUES ('written by the workload');",
        ),
    ),
    admin=(
        exec_("healthcheck.sh", "--connect", "--innodb_initialized"),
        exec_("mariadb-admin", "-uroot", "-pseccompose", "status"),
        exec_("mariadb", "-uroot", "-pseccompose", "-e", "FLUSH PRIVILEGES; FLUSH TABLES; SELECT VERSION()"),
    ),
    restart=(_maria("-N", "-e", "SELECT COUNT(*) FROM notes", expect="2"),),
    caps=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"),
)


def _httpd_files(work: Path) -> None:
    site(work)
    _write(work / "ports.conf", "Listen 28420\n")
    _write(
        work / "site.conf",
        """<VirtualHost *:28420>
    ServerName localhost
    DocumentRoot /usr/local/apache2/htdocs
    <Directory /usr/local/apache2/htdocs>
        Require all granted
    </Directory>
    AddOutputFilterByType DEFLATE text/plain text/html
    <Location /server-status>
        SetHandler server-status
        Require local
    </Location>
</VirtualHost>
""",
    )


HTTPD = Recipe(
    name="httpd",
    tag="httpd:2.4",
    packages=("apache2",),
    program="/usr/sbin/apache2",
    description="Apache httpd 2.4 (mpm_event, children as www-data) serving static files with deflate, graceful reload",
    images=_official("httpd"),
    entrypoint="httpd-foreground: the environment of /etc/apache2/envvars, the run folders, a stale pid file "
    "removed; exec apache2 -DFOREGROUND (stops on SIGWINCH)",
    port=28420,
    files=_httpd_files,
    mounts=(
        Mount("html", "/usr/local/apache2/htdocs"),
        Mount("ports.conf", "/etc/apache2/ports.conf"),
        Mount("site.conf", "/etc/apache2/sites-enabled/000-default.conf"),
    ),
    workload=(*http_load(28420), client("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28420/server-status")),
    admin=(
        exec_("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28420/index.html"),
        exec_("apache2ctl", "-t"),
        reload("apache2ctl", "graceful"),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28420/index.html", expect="seccompose"),),
    caps=("CHOWN", "SETUID", "SETGID", "KILL"),  # apache2ctl gives its socket folder to www-data
)


def _haproxy_files(work: Path) -> None:
    _write(work / "haproxy.cfg", haproxy_cfg(port=28424, origin=ORIGIN_PORT, stats_socket="/var/lib/haproxy/admin.sock"))


HAPROXY = Recipe(
    name="haproxy",
    tag="haproxy:2.6",
    packages=("haproxy",),
    program="/usr/sbin/haproxy",
    description="HAProxy 2.6 master-worker (as haproxy) proxying HTTP to a local origin, health checks, reload",
    images=_official("haproxy"),
    entrypoint="options as the first argument run haproxy; haproxy gets -W (master-worker) -db (foreground); "
    "the image runs as haproxy; stops gracefully on SIGUSR1",
    port=28424,
    files=_haproxy_files,
    mounts=(Mount("haproxy.cfg", "/usr/local/etc/haproxy/haproxy.cfg"),),
    origin=True,
    workload=(
        # Until its health check has seen the origin up, haproxy answers 503: wait for the first 200.
        client(
            "curl",
            "-fsS",
            "--retry",
            "30",
            "--retry-all-errors",
            "--retry-delay",
            "1",
            "-o",
            "/dev/null",
            "http://127.0.0.1:28424/index.html",
        ),
        client("ab", "-q", "-n", "2000", "-c", "8", "-k", "http://127.0.0.1:28424/index.html"),
        client("ab", "-q", "-n", "200", "-c", "4", "http://127.0.0.1:28424/big.bin"),
        client("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28424/words.txt"),
    ),
    admin=(
        exec_("curl", "-fsS", "http://127.0.0.1:28424/healthz", expect="ok"),
        exec_("haproxy", "-c", "-q", "-f", "/usr/local/etc/haproxy/haproxy.cfg"),
        reload("kill", "-USR2", "1"),  # the master reloads its workers
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28424/index.html", expect="seccompose"),),
    caps=(),
)


def _squid_files(work: Path) -> None:
    lines = [
        "cache_dir ufs /var/spool/squid 64 16 64",
        "cache_mem 16 MB",
        "coredump_dir /var/spool/squid",
        "access_log daemon:/var/log/squid/access.log squid",
        "cache_log /var/log/squid/cache.log",
        "cache_store_log stdio:/var/log/squid/store.log",
    ]
    _write(work / "squid.conf", squid_conf(http_port="28428", lines=lines))


SQUID = Recipe(
    name="squid",
    tag="ubuntu/squid:5.7",
    packages=("squid", "squidclient"),
    program="/usr/sbin/squid",
    description="Squid 5.7 forward proxy (as proxy) with a disk and memory cache, in front of a local origin",
    images=("squid", "squid:*", "ubuntu/squid", "ubuntu/squid:*", "docker.io/ubuntu/squid", "docker.io/ubuntu/squid:*"),
    entrypoint="snakeoil certificate when missing; tail -F of the logs to the output; squid -Nz (cache folders); "
    "exec squid -NYC in the foreground",
    port=28428,
    files=_squid_files,
    mounts=(Mount("squid.conf", "/etc/squid/squid.conf"),),
    volumes=(Volume("/var/spool/squid", named=True), Volume("/var/log/squid", named=True)),
    origin=True,
    workload=http_load(28428, proxy=28428, n=1000),
    admin=(
        exec_("squidclient", "-h", "127.0.0.1", "-p", "28428", "mgr:info"),
        exec_("squid", "-k", "parse", "-f", "/etc/squid/squid.conf"),
    ),
    restart=(
        client(
            "curl",
            "-fsS",
            "--proxy",
            "http://127.0.0.1:28428",
            f"http://127.0.0.1:{ORIGIN_PORT}/index.html",
            expect="seccompose",
        ),
    ),
    caps=("SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER"),
)


def _lighttpd_files(work: Path) -> None:
    site(work)
    conf = lighttpd_conf(root="/var/www/html", port=28432, run="/run", logs="/var/log/lighttpd",
                         cache="/var/cache/lighttpd/compress/")  # fmt: skip
    _write(work / "lighttpd.conf", conf)


LIGHTTPD = Recipe(
    name="lighttpd",
    tag="lighttpd:1.4",
    packages=("lighttpd", "lighttpd-mod-deflate"),
    program="/usr/sbin/lighttpd",
    description="lighttpd 1.4 (as www-data) serving static files with mod_deflate; graceful restart",
    images=("lighttpd", "lighttpd:*", "*/lighttpd", "*/lighttpd:*"),
    entrypoint="(no official image; as the community images) chown of the cache and run folders to www-data, "
    "lighttpd -tt (configuration check); exec lighttpd -D",
    port=28432,
    files=_lighttpd_files,
    mounts=(Mount("html", "/var/www/html"), Mount("lighttpd.conf", "/etc/lighttpd/lighttpd.conf")),
    workload=http_load(28432),
    admin=(
        exec_("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28432/index.html"),
        exec_("lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf"),
        reload("kill", "-USR1", "1"),  # graceful restart
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28432/index.html", expect="seccompose"),),
    # root writes into www-data's cache folder; docker exec's kill -USR1 (as root) signals the server, www-data
    caps=("CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID", "KILL"),
)


def _gunicorn_files(work: Path) -> None:
    _write(work / "post.txt", "payload " * 512)


GUNICORN = Recipe(
    name="gunicorn",
    tag="gunicorn:20",
    packages=("gunicorn", "python3-gunicorn"),
    program="/usr/bin/gunicorn",
    description="gunicorn 20 (Python 3 WSGI server, 2 sync workers, as www-data) serving a small JSON app; HUP reload",
    images=("gunicorn", "gunicorn:*", "*/gunicorn", "*/gunicorn:*"),
    entrypoint="(no official image; as Python application images) options as the first argument run gunicorn; "
    "the image runs as www-data",
    port=28436,
    args=("gunicorn", "-b", "127.0.0.1:28436", "-w", "2", "--access-logfile", "-", "app:app"),
    files=_gunicorn_files,
    workload=(
        client("ab", "-q", "-n", "2000", "-c", "8", "-k", "http://127.0.0.1:28436/hello"),
        client(
            "ab",
            "-q",
            "-n",
            "300",
            "-c",
            "4",
            "-p",
            "/work/post.txt",
            "-T",
            "text/plain",
            "http://127.0.0.1:28436/post",
        ),
    ),
    admin=(
        exec_(
            "python3",
            "-c",
            "import sys, urllib.request; sys.exit(urllib.request.urlopen("
            "'http://127.0.0.1:28436/health', timeout=5).status != 200)",
        ),
        reload("kill", "-HUP", "1"),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28436/again", expect="/again"),),
    caps=(),
)


# -- the JVM, Erlang and Node.js images


def _rabbit_files(work: Path) -> None:
    _write(work / "20-ports.conf", "listeners.tcp.default = 28440\nmanagement.tcp.port = 28441\n")


_AMQP = ("python3", "/workloads/amqp_load.py", "--port", "28440", "--user", "seccompose", "--password", "seccompose")

RABBITMQ = Recipe(
    name="rabbitmq",
    tag="rabbitmq:3.10-management",
    packages=("rabbitmq-server", "erlang-base"),
    program="/usr/lib/erlang/erts/bin/beam.smp",
    description="RabbitMQ 3.10 (Erlang/OTP 25, as rabbitmq) with the management plugin: AMQP publishers and "
    "consumers with connection churn, durable queues, the HTTP API",
    images=("rabbitmq", "rabbitmq:*", "docker.io/library/rabbitmq", "docker.io/library/rabbitmq:*"),
    entrypoint="chown of /var/lib/rabbitmq to rabbitmq, gosu rabbitmq; refuses retired variables; long node names "
    "when the host name is a full one; RABBITMQ_DEFAULT_USER/PASS create the user on the first start; exec "
    "rabbitmq-server (epmd, the Erlang VM)",
    port=28440,
    env={
        "RABBITMQ_DEFAULT_USER": "seccompose",
        "RABBITMQ_DEFAULT_PASS": "seccompose",
        "ERL_EPMD_PORT": "28442",
        "RABBITMQ_DIST_PORT": "28443",
        "RABBITMQ_NODENAME": "rabbit@localhost",
    },
    files=_rabbit_files,
    mounts=(Mount("20-ports.conf", "/etc/rabbitmq/conf.d/20-ports.conf"),),
    volumes=(Volume("/var/lib/rabbitmq"),),
    workload=(
        client(*_AMQP, "--messages", "20000", "--queues", "4", "--churn", "20", "--keep", "seccompose.kept"),
        client(
            "curl",
            "-fsS",
            "-u",
            "seccompose:seccompose",
            "http://127.0.0.1:28441/api/overview",
            expect="rabbitmq_version",
        ),
        client(
            "curl", "-fsS", "-u", "seccompose:seccompose", "http://127.0.0.1:28441/api/queues", expect="seccompose.kept"
        ),
    ),
    admin=(
        exec_("rabbitmq-diagnostics", "-q", "ping"),
        exec_("rabbitmqctl", "list_queues", "name", "messages"),
    ),
    restart=(client(*_AMQP, "--expect-kept", "seccompose.kept"),),
    caps=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"),
    soak=(client(*_AMQP, "--seconds", "300", "--queues", "8", "--churn", "50", timeout=420),),
    stats=exec_(
        "rabbitmqctl",
        "eval",
        "{gc, erlang:statistics(garbage_collection), processes, erlang:system_info(process_count), "
        "spawned, erlang:system_info(process_limit)}.",
    ),
    ready_timeout=240,
)


def _tomcat_files(work: Path) -> None:
    _write(
        work / "server.xml",
        """<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Service name="Catalina">
    <!-- a small pool whose idle threads end after 2 s: threads come and go under a changing load -->
    <Executor name="pool" namePrefix="exec-" maxThreads="64" minSpareThreads="2" maxIdleTime="2000" />
    <Connector executor="pool" port="28444" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
""",
    )
    app = work / "app"
    _write(
        app / "index.jsp", '<%@ page contentType="text/plain" %>seccompose tomcat <%= application.getServerInfo() %>\n'
    )
    _write(app / "health.jsp", '<%@ page contentType="text/plain" %>ok\n')
    _write(
        app / "work.jsp",
        """<%@ page contentType="application/json" import="java.util.*,java.util.concurrent.atomic.*" %><%
    // Garbage (short-lived arrays and maps), a session, and a thread started and joined per request.
    AtomicLong started = (AtomicLong) application.getAttribute("threads");
    if (started == null) { started = new AtomicLong(); application.setAttribute("threads", started); }
    int n = 2000;
    try { n = Integer.parseInt(request.getParameter("n")); } catch (Exception e) { }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) { Map<String, Object> m = new HashMap<>(); m.put("i", i); m.put("pad", new byte[256]); rows.add(m); }
    final long[] sum = {0};
    Thread t = new Thread(() -> { for (int i = 0; i < 100000; i++) sum[0] += i; });
    t.start(); t.join(); started.incrementAndGet();
    Integer hits = (Integer) session.getAttribute("hits");
    session.setAttribute("hits", hits == null ? 1 : hits + 1);
%>{"rows": <%= rows.size() %>, "sum": <%= sum[0] %>, "threads": <%= started.get() %>}
""",
    )
    _write(
        app / "stats.jsp",
        """<%@ page contentType="application/json" import="java.lang.management.*,java.util.concurrent.atomic.*" %><%
    long gcs = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) gcs += gc.getCollectionCount();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    AtomicLong started = (AtomicLong) application.getAttribute("threads");
%>{"gc": <%= gcs %>, "threadsStarted": <%= threads.getTotalStartedThreadCount() %>, "threadsLive": <%= threads.getThreadCount() %>, "requestThreads": <%= started == null ? 0 : started.get() %>}
""",
    )
    for path in [app, *app.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


TOMCAT = Recipe(
    name="tomcat",
    tag="tomcat:10.1",
    packages=("tomcat10", "libtomcat10-java", "openjdk-17-jre-headless"),
    program="/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
    description="Tomcat 10.1 on OpenJDK 17 (as root, as the official image): JSPs compiled on first use, sessions, "
    "garbage and a thread per request, an executor whose idle threads end",
    images=("tomcat", "tomcat:*", "docker.io/library/tomcat", "docker.io/library/tomcat:*"),
    entrypoint="(no entrypoint script in the official image) catalina.sh run: setenv, Java found, options set, "
    "exec java (as root)",
    port=28444,
    env={"CATALINA_OPTS": "-Xmx256m -Xlog:gc:stdout"},
    files=_tomcat_files,
    mounts=(Mount("server.xml", "/etc/tomcat10/server.xml"), Mount("app", "/var/lib/tomcat10/webapps/app")),
    workload=(
        client("curl", "-fsS", "http://127.0.0.1:28444/app/", expect="seccompose tomcat"),
        client("ab", "-q", "-l", "-n", "2000", "-c", "8", "-k", "http://127.0.0.1:28444/app/work.jsp?n=500"),
        client("ab", "-q", "-l", "-n", "300", "-c", "16", "http://127.0.0.1:28444/app/work.jsp?n=5000"),
        client("curl", "-fsS", "http://127.0.0.1:28444/app/stats.jsp", expect="threadsStarted"),
    ),
    admin=(
        exec_("curl", "-fsS", "http://127.0.0.1:28444/app/health.jsp", expect="ok"),
        exec_("version.sh"),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28444/app/work.jsp?n=10", expect="rows"),),
    caps=(),
    soak=(
        client(
            "ab",
            "-q",
            "-l",
            "-t",
            "300",
            "-n",
            "10000000",
            "-c",
            "16",
            "http://127.0.0.1:28444/app/work.jsp?n=3000",
            timeout=420,
        ),
    ),
    stats=client("curl", "-fsS", "http://127.0.0.1:28444/app/stats.jsp"),
    ready_timeout=240,
)


NODE = Recipe(
    name="node",
    tag="node:18",
    packages=("nodejs", "libnode108"),
    program="/usr/bin/node",
    description="Node.js 18 HTTP app (as node): JSON, zlib, crypto on libuv's thread pool, files, a worker thread per "
    "/worker request",
    images=("node", "node:*", "docker.io/library/node", "docker.io/library/node:*"),
    entrypoint="a script or options as the first argument run node with them; --user node, as the official "
    "image's documentation advises",
    port=28448,
    user="node",
    env={"PORT": "28448", "NODE_ENV": "production"},
    args=("node", "/usr/src/app/server.js"),
    files=lambda work: _copy_tree(Path(__file__).resolve().parent / "workloads" / "node-app", work / "node-app"),
    mounts=(Mount("node-app", "/usr/src/app"),),
    workload=(
        client("ab", "-q", "-l", "-n", "3000", "-c", "8", "-k", "http://127.0.0.1:28448/"),
        client("ab", "-q", "-l", "-n", "1000", "-c", "8", "http://127.0.0.1:28448/work?n=2000"),
        client("ab", "-q", "-l", "-n", "200", "-c", "4", "http://127.0.0.1:28448/hash"),
        client("ab", "-q", "-n", "200", "-c", "4", "-H", "Accept-Encoding: gzip", "http://127.0.0.1:28448/gzip"),
        client("ab", "-q", "-n", "300", "-c", "4", "http://127.0.0.1:28448/file"),
        client("ab", "-q", "-l", "-n", "100", "-c", "4", "http://127.0.0.1:28448/worker"),
        client("curl", "-fsS", "http://127.0.0.1:28448/stats", expect="workers"),
    ),
    admin=(
        exec_(
            "node",
            "-e",
            "require('http').get('http://127.0.0.1:28448/health', r => process.exit(r.statusCode === 200 ? 0 : 1))"
            ".on('error', () => process.exit(1))",
        ),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28448/health", expect="ok"),),
    caps=(),
    soak=(
        client(
            "python3",
            "/workloads/http_mix.py",
            "--seconds",
            "300",
            "--port",
            "28448",
            "/",
            "/work?n=4000",
            "/hash",
            "/gzip",
            "/file",
            "/worker",
            timeout=420,
        ),
    ),
    stats=client("curl", "-fsS", "http://127.0.0.1:28448/stats"),
)


def _copy_tree(source: Path, dest: Path) -> None:
    import shutil

    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# -- Go servers and the rest


REGISTRY_IMAGE = "127.0.0.1:28452/seccompose/tiny"

REGISTRY = Recipe(
    name="registry",
    tag="registry:2",
    packages=("docker-registry",),
    program="/usr/bin/docker-registry",
    description="Docker Registry 2.8 (Go): docker push and pull of an image, the catalogue and tags API, "
    "garbage-collect",
    images=_official("registry"),
    entrypoint="a YAML file as the first argument is served (registry serve); registry subcommands or options run "
    "registry; the image runs as root",
    port=28452,
    env={"REGISTRY_HTTP_ADDR": "127.0.0.1:28452"},
    volumes=(Volume("/var/lib/registry"),),
    workload=(
        docker("tag", CLIENT_IMAGE + "-tiny", REGISTRY_IMAGE + ":1"),
        docker("push", REGISTRY_IMAGE + ":1"),
        docker("rmi", REGISTRY_IMAGE + ":1"),
        docker("pull", REGISTRY_IMAGE + ":1"),
        client("curl", "-fsS", "http://127.0.0.1:28452/v2/_catalog", expect="seccompose/tiny"),
        client("curl", "-fsS", "http://127.0.0.1:28452/v2/seccompose/tiny/tags/list", expect='"1"'),
    ),
    admin=(
        exec_("curl", "-fsS", "http://127.0.0.1:28452/v2/"),
        exec_("registry", "garbage-collect", "--dry-run", "/etc/docker/registry/config.yml"),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28452/v2/seccompose/tiny/tags/list", expect='"1"'),),
    caps=(),
    first_steps=2,  # garbage-collect needs a repository: tag and push
)


def _caddy_files(work: Path) -> None:
    site(work)
    _write(
        work / "Caddyfile",
        f"""{{
	admin localhost:28457
}}

:28456 {{
	root * /srv
	encode gzip
	handle_path /origin/* {{
		reverse_proxy 127.0.0.1:{ORIGIN_PORT}
	}}
	file_server
}}
""",
    )


CADDY = Recipe(
    name="caddy",
    tag="caddy:2.6",
    packages=("caddy",),
    program="/usr/bin/caddy",
    description="Caddy 2.6 (Go) serving static files with gzip and reverse-proxying to a local origin; config API, "
    "reload",
    images=_official("caddy"),
    entrypoint="(no entrypoint script in the official image) CMD runs caddy run with the Caddyfile; XDG config and "
    "data folders in /config and /data",
    port=28456,
    files=_caddy_files,
    mounts=(Mount("html", "/srv"), Mount("Caddyfile", "/etc/caddy/Caddyfile")),
    volumes=(Volume("/data"), Volume("/config")),
    origin=True,
    workload=(
        *http_load(28456),
        client("ab", "-q", "-n", "500", "-c", "4", "http://127.0.0.1:28456/origin/index.html"),
        client("curl", "-fsS", "http://localhost:28457/config/", expect="28456"),
    ),
    admin=(
        exec_("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28456/index.html"),
        exec_("caddy", "validate", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"),
        reload(
            "caddy",
            "reload",
            "--config",
            "/etc/caddy/Caddyfile",
            "--adapter",
            "caddyfile",
            "--address",
            "localhost:28457",
        ),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28456/index.html", expect="seccompose"),),
    caps=(),
)


def _influx_files(work: Path) -> None:
    _write(
        work / "initdb" / "10-retention.iql", 'CREATE RETENTION POLICY "week" ON "metrics" DURATION 7d REPLICATION 1'
    )


INFLUXDB = Recipe(
    name="influxdb",
    tag="influxdb:1.6",
    packages=("influxdb", "influxdb-client"),
    program="/usr/bin/influxd",
    description="InfluxDB 1.6 (Go): the entrypoint's set-up of the database and users, then line-protocol writes "
    "and InfluxQL queries with authentication",
    images=_official("influxdb"),
    entrypoint="options as the first argument run influxd; init-influxdb.sh on the first start: a local influxd, "
    "the database, admin, user and read user with grants, /docker-entrypoint-initdb.d/*.iql, stop; exec influxd",
    port=28460,
    env={
        "INFLUXDB_DB": "metrics",
        "INFLUXDB_HTTP_AUTH_ENABLED": "true",
        "INFLUXDB_ADMIN_USER": "admin",
        "INFLUXDB_ADMIN_PASSWORD": "seccompose",
        "INFLUXDB_USER": "app",
        "INFLUXDB_USER_PASSWORD": "app-secret",
        "INFLUXDB_READ_USER": "reader",
        "INFLUXDB_READ_USER_PASSWORD": "reader-secret",
        "INFLUXDB_HTTP_BIND_ADDRESS": "127.0.0.1:28460",
        "INFLUXDB_BIND_ADDRESS": "127.0.0.1:28462",
        "INFLUXDB_INIT_PORT": "28461",
        "INFLUXDB_REPORTING_DISABLED": "true",
    },
    files=_influx_files,
    mounts=(Mount("initdb", "/docker-entrypoint-initdb.d"),),
    volumes=(Volume("/var/lib/influxdb"),),
    workload=(client("python3", "/workloads/influx_load.py", "--port", "28460", "--points", "20000"),),
    admin=(
        exec_("curl", "-fsS", "http://127.0.0.1:28460/ping"),
        exec_(
            "influx",
            "-host",
            "127.0.0.1",
            "-port",
            "28460",
            "-username",
            "admin",
            "-password",
            "seccompose",
            "-execute",
            "SHOW DATABASES",
            expect="metrics",
        ),
    ),
    restart=(client("python3", "/workloads/influx_load.py", "--port", "28460", "--expect-points", "20000"),),
    caps=(),
)


def _mosquitto_files(work: Path) -> None:
    _write(
        work / "mosquitto.conf",
        """listener 28464 127.0.0.1
allow_anonymous true
persistence true
persistence_location /mosquitto/data/
autosave_interval 1
max_queued_messages 0
log_dest stdout
log_dest file /mosquitto/log/mosquitto.log
""",
    )


MOSQUITTO = Recipe(
    name="mosquitto",
    tag="eclipse-mosquitto:2.0",
    packages=("mosquitto",),
    program="/usr/sbin/mosquitto",
    description="Eclipse Mosquitto 2.0 MQTT broker (drops to mosquitto): QoS 0/1/2 publishers and subscribers, "
    "retained messages kept across restarts",
    images=(
        "eclipse-mosquitto",
        "eclipse-mosquitto:*",
        "docker.io/library/eclipse-mosquitto",
        "docker.io/library/eclipse-mosquitto:*",
    ),
    entrypoint="as root, chown -R of /mosquitto to mosquitto; exec mosquitto (which drops to mosquitto)",
    port=28464,
    files=_mosquitto_files,
    mounts=(Mount("mosquitto.conf", "/mosquitto/config/mosquitto.conf"),),
    volumes=(Volume("/mosquitto/data"), Volume("/mosquitto/log")),
    workload=(client("sh", "/workloads/mqtt_load.sh", "28464", "3000"),),
    admin=(
        exec_("mosquitto_sub", "-p", "28464", "-t", "$SYS/broker/uptime", "-C", "1", "-W", "10"),
        exec_("mosquitto_pub", "-p", "28464", "-t", "health", "-m", "ok", "-q", "1"),
    ),
    restart=(
        client(
            "mosquitto_sub", "-p", "28464", "-t", "seccompose/kept", "-C", "1", "-W", "10", expect="across-restarts"
        ),
    ),
    caps=("CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID"),
)


def _php_files(work: Path) -> None:
    _write(
        work / "pool.conf",
        """[global]
error_log = /proc/self/fd/2

[www]
listen = 127.0.0.1:28468
pm = dynamic
pm.max_children = 8
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
; workers are replaced after 100 requests: processes come and go
pm.max_requests = 100
pm.status_path = /status
ping.path = /ping
""",
    )
    _write(
        work / "www" / "index.php",
        """<?php
// Sessions, JSON, a temporary file and a hash: what a small PHP app does per request.
session_start();
$_SESSION['hits'] = ($_SESSION['hits'] ?? 0) + 1;
$rows = [];
for ($i = 0; $i < 500; $i++) { $rows[] = ['i' => $i, 'h' => md5((string) $i)]; }
$file = tempnam(sys_get_temp_dir(), 'sc');
file_put_contents($file, json_encode($rows));
$back = json_decode(file_get_contents($file), true);
unlink($file);
header('Content-Type: application/json');
echo json_encode(['rows' => count($back), 'hits' => $_SESSION['hits'], 'hash' => password_hash('x', PASSWORD_BCRYPT, ['cost' => 4]) !== '']);
""",
    )
    _write(
        work / "front.conf",
        """daemon off;
worker_processes 1;
pid /tmp/front-nginx.pid;
error_log stderr;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path /tmp/front-body; fastcgi_temp_path /tmp/front-fastcgi;
  proxy_temp_path /tmp/front-proxy; uwsgi_temp_path /tmp/front-uwsgi; scgi_temp_path /tmp/front-scgi;
  server {
    listen 127.0.0.1:28469;
    root /var/www/html;
    location ~ ^/(status|ping)$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_NAME $uri; fastcgi_param SCRIPT_FILENAME $uri;
      fastcgi_pass 127.0.0.1:28468;
    }
    location ~ \\.php$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME /var/www/html$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:28468;
    }
  }
}
""",
    )


PHP = Recipe(
    name="php",
    tag="php:8.2-fpm",
    packages=("php8.2-fpm", "php8.2-common", "php8.2-opcache"),
    program="/usr/sbin/php-fpm8.2",
    description="PHP 8.2 FPM (master as root, workers as www-data, recycled every 100 requests) behind nginx: "
    "sessions, JSON, files, bcrypt; graceful reload",
    images=("php", "php:*fpm*", "docker.io/library/php", "docker.io/library/php:*fpm*"),
    entrypoint="options as the first argument run php-fpm with them; php-fpm in the foreground, logs to the "
    "output, FastCGI on a TCP port; stops gracefully on SIGQUIT",
    port=28468,
    files=_php_files,
    mounts=(Mount("pool.conf", "/etc/php/8.2/fpm/pool.d/zzz-seccompose.conf"), Mount("www", "/var/www/html")),
    sidecar=("nginx", "-c", "/work/front.conf"),
    workload=(
        client("ab", "-q", "-l", "-n", "1000", "-c", "8", "http://127.0.0.1:28469/index.php"),
        client("curl", "-fsS", "http://127.0.0.1:28469/ping", expect="pong"),
        client("curl", "-fsS", "http://127.0.0.1:28469/status", expect="accepted conn"),
    ),
    admin=(
        exec_("sh", "-c", "php-fpm -t"),
        reload("kill", "-USR2", "1"),  # graceful reload of the workers
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28469/index.php", expect="rows"),),
    caps=("SETUID", "SETGID", "KILL"),
)


def _varnish_files(work: Path) -> None:
    _write(
        work / "default.vcl",
        f"""vcl 4.1;

backend default {{
    .host = "127.0.0.1";
    .port = "{ORIGIN_PORT}";
    .probe = {{ .url = "/index.html"; .interval = 1s; .timeout = 1s; .window = 3; .threshold = 2; }}
}}

sub vcl_recv {{
    if (req.method == "PURGE") {{
        if (client.ip != "127.0.0.1") {{ return (synth(405)); }}
        return (purge);
    }}
}}
""",
    )


VARNISH = Recipe(
    name="varnish",
    tag="varnish:7.1",
    packages=("varnish",),
    program="/usr/sbin/varnishd",
    description="Varnish Cache 7.1 (as varnish) in front of a local origin: cache hits and misses, PURGE, a backend "
    "probe, varnishadm and varnishstat",
    images=_official("varnish"),
    entrypoint="with no arguments or options only: varnishd -F with default.vcl, HTTP and PROXY listeners on "
    "VARNISH_HTTP_PORT / VARNISH_PROXY_PORT, HTTP/2, a VARNISH_SIZE memory cache; the image runs as varnish",
    port=28472,
    env={"VARNISH_HTTP_PORT": "28472", "VARNISH_PROXY_PORT": "28473", "VARNISH_SIZE": "64M"},
    args=("-T", "127.0.0.1:28474"),
    files=_varnish_files,
    mounts=(Mount("default.vcl", "/etc/varnish/default.vcl"),),
    origin=True,
    workload=(
        client("ab", "-q", "-n", "3000", "-c", "8", "-k", "http://127.0.0.1:28472/index.html"),
        client("ab", "-q", "-n", "200", "-c", "4", "http://127.0.0.1:28472/big.bin"),
        client("curl", "-fsS", "-X", "PURGE", "http://127.0.0.1:28472/index.html"),
        client("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28472/words.txt"),
    ),
    admin=(
        exec_("varnishadm", "ping"),
        exec_("varnishadm", "backend.list"),
        exec_("varnishstat", "-1", "-f", "MAIN.cache_hit"),
    ),
    restart=(client("curl", "-fsS", "http://127.0.0.1:28472/index.html", expect="seccompose"),),
    caps=(),
)


def _nats_files(work: Path) -> None:
    _write(
        work / "nats-server.conf",
        """port: 28476
net: 127.0.0.1
monitor_port: 28477
jetstream {
  store_dir: /data
}
""",
    )


NATS = Recipe(
    name="nats",
    tag="nats:2.9",
    packages=("nats-server",),
    program="/usr/bin/nats-server",
    description="NATS 2.9 (Go) with JetStream: publish/subscribe, request/reply, a file-backed stream kept across "
    "restarts, the monitoring endpoints",
    images=_official("nats"),
    entrypoint="with no arguments or options only, run nats-server with them; other commands run as they are; "
    "the image runs as root",
    port=28476,
    args=("--config", "/etc/nats/nats-server.conf"),
    files=_nats_files,
    mounts=(Mount("nats-server.conf", "/etc/nats/nats-server.conf"),),
    volumes=(Volume("/data"),),
    workload=(
        client("python3", "/workloads/nats_load.py", "--port", "28476", "--messages", "10000", "--stream", "KEPT"),
        client("curl", "-fsS", "http://127.0.0.1:28477/varz", expect="server_id"),
    ),
    admin=(
        exec_("curl", "-fsS", "http://127.0.0.1:28477/healthz", expect="ok"),
        exec_("curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:28477/jsz"),
    ),
    restart=(client("python3", "/workloads/nats_load.py", "--port", "28476", "--expect-stream", "KEPT"),),
    caps=(),
)


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        NGINX, REDIS, POSTGRES, MEMCACHED, MARIADB, HTTPD, HAPROXY, SQUID, LIGHTTPD, GUNICORN,
        RABBITMQ, TOMCAT, NODE, REGISTRY, CADDY, INFLUXDB, MOSQUITTO, PHP, VARNISH, NATS,
    )
}  # fmt: skip
"""Every app template's image, by template name."""

SOAK = ("tomcat", "rabbitmq", "node")
"""The JVM, Erlang and Node.js images: their five-minute workloads run side by side."""

CLIENT_PACKAGES = ("apache2-utils", "libmemcached-tools", "python3-pika", "mosquitto-clients")
"""Clients the workloads run (besides those the servers' packages bring: redis-cli, psql, mariadb, ...)."""

IMAGE_PACKAGES = ("gosu", "gettext-base", "ssl-cert", "strace")
"""What the images need besides the servers: gosu (privilege drop), envsubst (nginx's templates),
make-ssl-cert (squid's), strace (recording only: ``tools/record_images.py`` runs it inside)."""


def recipe(name: str) -> Recipe:
    """Return a template's recipe; KeyError names the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"no image recipe for {name!r}; known: {', '.join(RECIPES)}") from None


__all__ = [
    "CLIENT_IMAGE",
    "CLIENT_PACKAGES",
    "IMAGE_PACKAGES",
    "ORIGIN_PORT",
    "PROBE_DIR",
    "RECIPES",
    "SOAK",
    "Mount",
    "Recipe",
    "Step",
    "Volume",
    "recipe",
    "reload",
]
