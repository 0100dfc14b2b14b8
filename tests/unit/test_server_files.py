"""tools/_server_files.py: a server's two lives (host recipe, image recipe) are fed and configured alike.

The host recipes (tools/record_templates.py) and the image recipes (tools/image_recipes.py) had each
their own copy of the site, the load and the configuration files. Here: what the two lives run and
write differs only in ports, paths and users; the servers' own checks of the files run in the engines
and images suites (nginx -t, haproxy -c, lighttpd -tt, squid -k parse).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests._tools import tool

files = tool("_server_files")
host = tool("record_templates")
image = tool("image_recipes")

# (host port, image port) of each server: the one thing their loads may differ in
PORTS = {"nginx": (28101, 28400), "redis": (28102, 28404), "memcached": (28104, 28412), "httpd": (28106, 28420),
         "lighttpd": (28109, 28432), "squid": (28108, 28428), "mariadb": (28105, 28416)}  # fmt: skip


def _image_argv(name: str, where: str = "client") -> list[list[str]]:
    return [list(s.argv) for s in image.RECIPES[name].workload if s.where == where]


def _host_argv(name: str, work: Path) -> list[list[str]]:
    server = host.SERVERS[name]
    return [*server.workload(work), *server.after_reload(work)]


def _as_image(argvs: list[list[str]], name: str) -> list[list[str]]:
    old, new = (str(p) for p in PORTS[name])
    return [[a.replace(old, new).replace(str(host.BACKEND_PORT), str(image.ORIGIN_PORT)) for a in argv] for argv in argvs]


@pytest.mark.parametrize("name", ["nginx", "lighttpd", "httpd", "squid"])
def test_the_static_sites_get_the_same_http_load(name: str, tmp_path: Path) -> None:
    load = _as_image(host.SERVERS[name].workload(tmp_path), name)[:4]
    assert load == _image_argv(name)[:4]
    assert [a[0] for a in load] == ["ab", "ab", "curl", "curl"]


def test_redis_memcached_mariadb_and_postgres_get_the_same_load(tmp_path: Path) -> None:
    assert _as_image(_host_argv("redis", tmp_path), "redis")[:2] == _image_argv("redis")[:2]
    assert _as_image(_host_argv("memcached", tmp_path), "memcached") == _image_argv("memcached")
    host_slap = _as_image(_host_argv("mariadb", tmp_path), "mariadb")[0]
    assert [*host_slap[:7], "-pseccompose", *host_slap[7:]] == _image_argv("mariadb")[0]
    # postgres: the same programs and arguments; the connection and the database are each life's own
    host_pg = [[Path(a[0]).name, *a[7:-1]] for a in host.SERVERS["postgres"].workload(tmp_path)]
    image_pg = [[a[0], *a[7:-1]] for a in _image_argv("postgres")[:3]]
    assert host_pg == image_pg
    assert host_pg[0][:2] == ["pgbench", "-q"]


# the host recipes give their work folders to the servers' users (www-data, proxy): root, as CI runs
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the host recipes chown their work folders (run as root)")


def _written(write: object, tmp: Path, name: str) -> str:
    tmp.mkdir()
    write(tmp)  # type: ignore[operator]
    return (tmp / name).read_text()


@needs_root
@pytest.mark.parametrize(
    ("conf", "host_write", "image_write", "life_specific"),
    [
        ("haproxy.cfg", "_haproxy_prepare", "_haproxy_files", ("  user ", "  group ", "  pidfile ", "  stats socket ", "  bind ")),
        ("lighttpd.conf", "_lighttpd_prepare", "_lighttpd_files",
         ("server.document-root", "server.port", "server.pid-file", "server.errorlog", "accesslog.", "deflate.cache")),
        ("squid.conf", "_squid_prepare", "_squid_files",
         ("http_port", "cache", "coredump", "access_log", "pid_filename")),
    ],
)  # fmt: skip
def test_the_configuration_differs_only_in_ports_paths_and_users(
    conf: str, host_write: str, image_write: str, life_specific: tuple[str, ...], tmp_path: Path
) -> None:
    host_text = _written(getattr(host, host_write), tmp_path / "host", conf)
    image_text = _written(getattr(image, image_write), tmp_path / "image", conf)

    def shared(text: str) -> list[str]:
        old, new = str(host.BACKEND_PORT), str(image.ORIGIN_PORT)
        return [line.replace(old, new) for line in text.splitlines() if not line.startswith(life_specific)]

    assert shared(host_text) == shared(image_text)
    assert len(shared(host_text)) >= 5


def test_nginx_serves_the_site_alike(tmp_path: Path) -> None:
    host.SERVERS["nginx"].prepare(tmp_path)
    image.RECIPES["nginx"].files(tmp_path)
    host_conf = (tmp_path / "nginx.conf").read_text()
    template = (tmp_path / "templates" / "default.conf.template").read_text()
    directives = [d.strip() for d in template.splitlines()[1:-1]]
    on_one_line = next(line for line in host_conf.splitlines() if line.strip().startswith("server {"))
    assert on_one_line.strip() == files.nginx_server(listen="127.0.0.1:28101", root=f"{tmp_path}/html")
    for directive in directives:
        if not directive.startswith(("listen", "root")):
            assert f" {directive} " in on_one_line


@needs_root
def test_gunicorn_serves_the_images_app_on_the_host(tmp_path: Path) -> None:
    host.SERVERS["gunicorn"].prepare(tmp_path)
    assert (tmp_path / "app.py").read_bytes() == (files.IMAGES / "gunicorn" / "app.py").read_bytes()


def test_memcached_health_check_is_the_same_in_both_lives(tmp_path: Path) -> None:
    host_check = host.SERVERS["memcached"].admin(tmp_path)[0]
    image_check = list(image.RECIPES["memcached"].admin[0].argv)
    assert _as_image([host_check], "memcached") == [image_check]
