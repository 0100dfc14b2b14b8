"""Container images for the template proofs: one Debian root filesystem with every server, tagged per image.

    python tools/images.py build                    # build (or reuse) the rootfs; print its path
    python tools/images.py build --packages redis-server   # a smaller one, for a try
    python tools/images.py list                     # the images and the packages they hold

The official images (redis:7, postgres:15, ...) are Debian with the server's package: this
module builds one root filesystem with ``mmdebstrap`` (variant minbase) from the Debian
packages the host's apt sources give (``/etc/apt/sources.list.d/debian.sources`` when it
exists, so the image has the very package versions the templates were recorded from), holding
every server of ``tools/record_templates.py`` and the tools their images ship (``bash``,
``curl``, ``procps``). Services are not started in the chroot. The result is cached by the
package list, the sources and the Debian release: a second build is a directory lookup.

``import_into(engine, rootfs)`` then imports it once into a private Docker or Podman
(``tools/engines.py``) and tags it with every official name in ``IMAGES``, so
``docker run ... redis:7`` runs Debian's redis-server as the image people pull would.

Later work (entrypoint-faithful images) extends ``IMAGES`` with entrypoints and more servers;
``Image`` holds what one image needs beyond the shared rootfs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
SUITE = "bookworm"
CACHE = Path(os.environ.get("SECCOMPOSE_IMAGE_CACHE", "/var/tmp/seccompose-images"))
"""Where built root filesystems are kept (one directory per package list), across runs."""
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
"""The host's apt sources: the image gets the packages the host has (when the file exists)."""
BASE_PACKAGES = ("bash", "coreutils", "procps", "curl", "ca-certificates", "netbase")
"""Tools the official images ship besides their server (healthchecks use them)."""


@dataclass(frozen=True)
class Image:
    """One official image name, the Debian packages its server comes from, and the template it runs."""

    template: str
    tag: str
    packages: tuple[str, ...]


IMAGES: tuple[Image, ...] = (
    Image("nginx", "nginx:1.22", ("nginx-light",)),
    Image("redis", "redis:7", ("redis-server", "redis-tools")),
    Image("postgres", "postgres:15", ("postgresql-15", "postgresql-client-15")),
    Image("memcached", "memcached:1.6", ("memcached",)),
    Image("mariadb", "mariadb:10.11", ("mariadb-server", "mariadb-client")),
    Image("httpd", "httpd:2.4", ("apache2",)),
    Image("haproxy", "haproxy:2.6", ("haproxy",)),
    Image("squid", "ubuntu/squid:5.7", ("squid", "squidclient")),
    Image("lighttpd", "lighttpd:1.4", ("lighttpd", "lighttpd-mod-deflate")),
    Image("gunicorn", "gunicorn:20", ("gunicorn", "python3-gunicorn")),
)
"""Every image the template proofs run, tagged with the name people pull (the Debian version)."""


def image_for(template: str) -> Image:
    """Return the image a template's proof runs."""
    for image in IMAGES:
        if image.template == template:
            return image
    raise KeyError(f"no image for template {template!r}; known: {', '.join(i.template for i in IMAGES)}")


def packages(images: Iterable[Image] | None = None) -> tuple[str, ...]:
    """Return the sorted package list of a rootfs holding ``images``.

    By default every image's: the ten of ``IMAGES`` and the twenty of ``tools/image_recipes.py``
    (their servers, gosu and the clients their workloads run), so one cached rootfs serves the
    engine suite, the image suites and the recorders alike.
    """
    if images is not None:
        return tuple(sorted({*BASE_PACKAGES, *(p for i in images for p in i.packages)}))
    import image_recipes

    recipes = image_recipes.RECIPES.values()
    return tuple(
        sorted({
            *BASE_PACKAGES,
            *(p for i in IMAGES for p in i.packages),
            *(p for r in recipes for p in r.packages),
            *image_recipes.CLIENT_PACKAGES,
            *image_recipes.IMAGE_PACKAGES,
        })
    )


def _key(pkgs: Sequence[str]) -> str:
    sources = SOURCES.read_bytes() if SOURCES.is_file() else b"deb.debian.org"
    digest = hashlib.sha256("\n".join([SUITE, *pkgs]).encode() + b"\0" + sources).hexdigest()
    return digest[:16]


def build(pkgs: Sequence[str] | None = None, *, cache: Path = CACHE, log: bool = True) -> Path:
    """Return a root filesystem directory with ``pkgs`` (default: every image's), building it if not cached.

    Needs root and mmdebstrap (``apt-get install mmdebstrap``). Concurrent builds of the same
    list wait for each other (a lock file beside the cache entry).
    """
    import fcntl

    pkgs = tuple(sorted(pkgs)) if pkgs is not None else packages()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"rootfs-{SUITE}-{_key(pkgs)}"
    with (cache / f"{target.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".seccompose-image.json").is_file():
            return target
        if shutil.which("mmdebstrap") is None:
            raise RuntimeError("mmdebstrap is not installed (apt-get install mmdebstrap)")
        work = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=cache))
        started = time.monotonic()
        mirrors = [str(SOURCES)] if SOURCES.is_file() else []
        cmd = [
            "mmdebstrap",
            "--variant=minbase",
            "--mode=root",
            "--format=directory",
            f"--include={','.join(pkgs)}",
            # The official images carry no docs or man pages; neither does this one (and it is smaller).
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            # openjdk's postinst registers its man pages with update-alternatives: the folder must exist.
            '--setup-hook=mkdir -p "$1/usr/share/man/man1"',
            "--customize-hook=rm -rf $1/var/cache/apt/archives/*.deb $1/var/lib/apt/lists/*",
            SUITE,
            str(work / "rootfs"),
            *mirrors,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(f"mmdebstrap failed ({done.returncode}):\n{done.stderr[-3000:]}")
        rootfs = work / "rootfs"
        versions = _versions(rootfs, pkgs)
        (rootfs / ".seccompose-image.json").write_text(
            json.dumps({"suite": SUITE, "packages": versions, "built": time.time()}, indent=2) + "\n"
        )
        rootfs.rename(target)
        shutil.rmtree(work, ignore_errors=True)
        if log:
            print(f"built {target} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return target


def _versions(rootfs: Path, pkgs: Sequence[str]) -> dict[str, str]:
    cmd = ["dpkg-query", f"--admindir={rootfs}/var/lib/dpkg", "-W", "-f=${Package}\t${Version}\n", *pkgs]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def package_versions(rootfs: Path) -> dict[str, str]:
    """Return the package versions a built rootfs records."""
    doc = json.loads((rootfs / ".seccompose-image.json").read_text())
    versions: dict[str, str] = doc["packages"]
    return versions


def passwd(rootfs: Path) -> dict[str, tuple[int, int]]:
    """Return the rootfs's users: name -> (uid, gid)."""
    out = {}
    for line in (rootfs / "etc" / "passwd").read_text().splitlines():
        parts = line.split(":")
        if len(parts) >= 4:
            out[parts[0]] = (int(parts[2]), int(parts[3]))
    return out


def groups(rootfs: Path) -> dict[str, int]:
    """Return the rootfs's groups: name -> gid."""
    out = {}
    for line in (rootfs / "etc" / "group").read_text().splitlines():
        parts = line.split(":")
        if len(parts) >= 3:
            out[parts[0]] = int(parts[2])
    return out


def own_like_in(work: Path, rootfs: Path) -> None:
    """Give ``work``'s files the owners they have on this host by *name*, as the rootfs numbers them.

    The recipes prepare a server's directory on the host (``chown postgres``); Debian numbers
    system users by install order, so the image's ``postgres`` may have another uid.
    """
    import grp
    import pwd

    users, grps = passwd(rootfs), groups(rootfs)
    for path in [work, *work.rglob("*")]:
        st = path.lstat()
        try:
            user = pwd.getpwuid(st.st_uid).pw_name
            group = grp.getgrgid(st.st_gid).gr_name
        except KeyError:
            continue
        uid = users.get(user, (st.st_uid, 0))[0]
        gid = grps.get(group, st.st_gid)
        if (uid, gid) != (st.st_uid, st.st_gid):
            os.lchown(path, uid, gid)


class Engine(Protocol):
    """What ``import_into`` needs of a private engine (``tools/engines.py``)."""

    name: str

    def run(self, *args: str, input: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:  # noqa: A002 - subprocess's name
        """Run the engine's CLI."""
        ...


def import_into(engine: Engine, rootfs: Path, images: Iterable[Image] = IMAGES) -> list[str]:
    """Import ``rootfs`` into ``engine`` once and tag it with each image's official name; return the tags.

    Skips the import when the engine already has the first tag from this very rootfs.
    """
    images = list(images)
    marker = f"seccompose.rootfs={rootfs.name}"
    tags = [i.tag for i in images]
    have = engine.run("image", "inspect", "--format", "{{json .Config.Labels}}", tags[0], timeout=60)
    if have.returncode == 0 and rootfs.name in have.stdout.decode(errors="replace"):
        return tags
    tar = ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."]
    data = subprocess.run(tar, capture_output=True, check=True).stdout
    label = "LABEL " + marker.replace("=", '="', 1) + '"'
    done = engine.run("import", "--change", label, "-", f"seccompose-rootfs:{rootfs.name}", input=data, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{engine.name} import failed: {done.stderr.decode(errors='replace')[-1000:]}")
    for tag in tags:
        tagged = engine.run("tag", f"seccompose-rootfs:{rootfs.name}", tag, timeout=60)
        if tagged.returncode != 0:
            raise RuntimeError(f"{engine.name} tag {tag} failed: {tagged.stderr.decode(errors='replace')}")
    return tags


BASE_TAG = "seccompose-base"
"""The imported root filesystem, the ``FROM`` of every Dockerfile in ``images/`` (their ``ARG BASE``)."""


def prepare(engine: Engine, rootfs: Path, names: Iterable[str] | None = None) -> list[str]:
    """Import ``rootfs`` as ``seccompose-base`` and build the images of ``images/NAME/`` on it; return their tags.

    Each image is tagged with its official name (``tools/image_recipes.py``); the rootfs is also
    tagged ``seccompose-client`` (the workload clients run in it, under Docker's default profile).
    The builds are offline (the Dockerfiles only copy files and run shell commands over the rootfs)
    and use the classic builder on the host network (the private dockerd has no bridge). An image
    already built from this rootfs and these files is kept (its label holds their digest).
    """
    import image_recipes

    tags = import_into(engine, rootfs, [Image("base", BASE_TAG, ()), Image("client", image_recipes.CLIENT_IMAGE, ())])
    built = []
    for name in names or image_recipes.RECIPES:
        recipe = image_recipes.RECIPES[name]
        context = recipe.context
        digest = hashlib.sha256(rootfs.name.encode())
        for path in sorted(context.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
        key = digest.hexdigest()[:16]
        have = engine.run("image", "inspect", "--format", '{{index .Config.Labels "seccompose.context"}}', recipe.tag,
                          timeout=60)  # fmt: skip
        if have.returncode == 0 and have.stdout.decode().strip() == key:
            built.append(recipe.tag)
            continue
        done = engine.run("build", "--network", "host", "--label", f"seccompose.context={key}", "-t", recipe.tag,
                          str(context), timeout=900)  # fmt: skip
        if done.returncode != 0:
            out = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"{engine.name} build of {recipe.tag} ({context}) failed:\n{out[-2000:]}")
        built.append(recipe.tag)
    return [*tags, *built]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build (or reuse) the rootfs and print its path")
    b.add_argument("--packages", help="comma-separated packages instead of every image's")
    b.add_argument("--cache", type=Path, default=CACHE)
    sub.add_parser("list", help="print the images and their packages")
    ns = parser.parse_args(argv)
    if ns.command == "list":
        for image in IMAGES:
            print(f"{image.tag:<20} {image.template:<10} {' '.join(image.packages)}")
        return 0
    if os.geteuid() != 0:
        parser.error("mmdebstrap --mode=root needs root")
    pkgs = [p.strip() for p in ns.packages.split(",")] if ns.packages else None
    print(build(pkgs, cache=ns.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
