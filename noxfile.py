"""Development sessions: tests, lint, typecheck, docs, data (drift), build, bench.

Dependencies come from pyproject.toml's dependency groups, so there is one list.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
ROOT = Path(__file__).parent


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _pytest_env(session: nox.Session, *groups: str) -> None:
    """Install what every pytest run needs: pytest imports every module under tests/ (doctests), the CRI
    client (grpcio, the engines group) included, so a session that runs pytest without it fails collecting."""
    session.install("-e", ".[check]", *_group("test"), *_group("engines"), *(d for g in groups for d in _group(g)))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (unit, property, golden, docs examples, integration) but the engine suites."""
    _pytest_env(session, "docs")
    session.run("python", "-m", "pytest", "-m", "not engines and not soak and not images and not images_soak",
                *session.posargs)


@nox.session
def engines(session: nox.Session) -> None:
    """The slow suites that start real engines (dockerd, podman, containerd) and containers through seccompose.

    Among them tests/engines: every template's server under docker, podman and runc, and the runtimes'
    start-up sets as the engines invoke them; it builds a Debian root filesystem with every server once,
    cached in /var/tmp/seccompose-images (needs root and the packages in .ci/apt-packages).
    """
    _pytest_env(session)
    session.run("python", "-m", "pytest", "-m", "engines", "--durations=15", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Mutation fuzzing of every reader (tests/fuzz.py): 100,000 inputs by default, `-- --count N` for fewer."""
    session.install("-e", ".[check]", *_group("test"))
    session.run("python", "tests/fuzz.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The seccomp agent under load and with real servers (a million refused calls, fifty containers, the learn
    loop on redis, startup phases on three servers); figures go to $SECCOMPOSE_SOAK_REPORT."""
    _pytest_env(session)
    session.run("python", "-m", "pytest", "-m", "soak", "--durations=10", *session.posargs)


@nox.session
def images(session: nox.Session) -> None:
    """The template images under real Docker: first start, restart with no flag, --cap-drop ALL (root)."""
    _pytest_env(session)
    session.run("python", "-m", "pytest", "-m", "images", "--durations=25", *session.posargs)


@nox.session(name="images_soak")
def images_soak(session: nox.Session) -> None:
    """The JVM, Erlang and Node.js images: five minutes of their workload side by side under their templates."""
    _pytest_env(session)
    session.run("python", "-m", "pytest", "-m", "images_soak", "-s", *session.posargs)


@nox.session
def record(session: nox.Session) -> None:
    """Re-record templates from their images against the installed packages: `nox -s record -- NAME` (root)."""
    session.install("-e", ".[check]")
    session.run("python", "tools/record_images.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff over everything."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "tools", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src, tests, tools and this file."""
    session.install("-e", ".[check]", *_group("lint"))
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (its examples run in `tests`)."""
    session.install("-e", ".", *_group("docs"))
    session.run("python", "tools/gen_docs.py")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(Path(tempfile.mkdtemp()) / "site"))


@nox.session(venv_backend="none")
def data(session: nox.Session) -> None:
    """Regenerate every generated file and fail if anything changed."""
    for tool in sorted((ROOT / "tools").glob("gen_*.py")):
        session.run("python", str(tool), "--check")
    session.run("python", "tools/copy_fixtures.py", "--check")


@nox.session
def build(session: nox.Session) -> None:
    """sdist -> wheel -> fresh venv -> run the CLI, checking the data ships inside."""
    session.install("build")
    out = Path(tempfile.mkdtemp())
    session.run("python", "-m", "build", "--sdist", "--outdir", str(out))
    sdist = next(out.glob("*.tar.gz"))
    session.run("python", "-m", "build", "--wheel", "--outdir", str(out / "wheel"), str(sdist))
    wheel = next((out / "wheel").glob("*.whl"))
    venv = out / "venv"
    session.run("python", "-m", "venv", str(venv))
    py = str(venv / "bin" / "python")
    session.run(py, "-m", "pip", "install", "-q", str(wheel), external=True)
    with session.chdir(out):
        session.run(py, "-c", "import seccompose, pathlib; "
                    "d = pathlib.Path(seccompose.__file__).parent / 'data'; "
                    "assert (d / 'syscalls' / 'x86_64.tsv').is_file() and not d.is_symlink(), d", external=True)
        session.run(str(venv / "bin" / "seccompose"), "compose", "--base", "default", "--arch", "x86_64",
                    external=True, silent=True)
    shutil.rmtree(out, ignore_errors=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmark suite and print the results table (`-- --quick` for the CI mode)."""
    session.install("-e", ".[check]")
    seed = os.environ.get("PYTHONHASHSEED", "0")
    session.run("python", "benchmarks/run.py", *session.posargs, env={"PYTHONHASHSEED": seed})
