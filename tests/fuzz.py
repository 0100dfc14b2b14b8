"""A mutation fuzzer over the fixture profiles, templates and policies: no input may crash seccompose.

``nox -s fuzz`` runs it (``-- --count N --seed S --jobs J``); ``tests/test_fuzz.py`` runs a short
round with every test run. Each input is a fixture mutated a few times, by structure (a value
swapped for another JSON type, a huge or negative number, null, a deep nesting, a key deleted,
renamed to another case, duplicated; a list emptied or repeated) or by bytes (bits flipped, cut
short, a BOM, NUL, UTF-16, a stray quote). It goes through what the CLI does with a file: the
bounded reader, then lint, render for each engine, the template/compose path, explain's summary,
diff and check for profiles, and the policy loader for policies. A :class:`SeccomposeError` (or
an ``OSError``) is an answer; anything else is an internal error, which the run reports with the
input that caused it (saved under ``--out``) and fails on. Each input must also finish within
``--seconds`` (a hang) under the worker's address-space limit (a blow-up).
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import random
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROFILES = [
    *sorted((ROOT / "tests" / "fixtures" / "reference" / "profiles").glob("*.json")),
    *sorted((ROOT / "tests" / "golden" / "render" / "oddities").glob("*.json")),
    *sorted((ROOT / "tests" / "fixtures" / "bad" / "docker").glob("*.json")),
    *sorted((ROOT / "tests" / "fixtures" / "bad" / "oci").glob("*.json")),
    *sorted((ROOT / "data" / "templates").glob("*.json")),
]
POLICIES = sorted((ROOT / "docs" / "examples").glob("policy*.yaml"))
INLINE_POLICIES = [
    "templates:\n  - template: redis\n    images: ['redis:*']\nrules:\n  - name: no-ptrace\n    deny: [ptrace]\n",
    '{"rules": [{"name": "perf", "allow": ["perf_event_open"], "scope": {"labels": {"team": "perf"}}}]}',
    (
        "version: 1\ndefault: default\nerrnoPolicy: enosys\nruntime: runc\nrules:\n  - name: r\n    rules:\n"
        "      - names: [personality]\n        action: SCMP_ACT_ALLOW\n        args: [{index: 0, value: 8, op: SCMP_CMP_EQ}]\n"
    ),
]
MEMORY = 2 << 30


# --- mutations ---------------------------------------------------------------------------------------

WEIRD_VALUES: list[Any] = [
    None, True, False, 0, -1, -0.0, 1.5, 2**64, 2**64 - 1, 10**30, "", "x", "SCMP_ACT_ALLOW", "SCMP_ACT_ALOW",
    "CAP_SYS_ADMIN", "amd64", "SCMP_ARCH_X86_64", "4.8", "4.8.1", "", "\u0131ndex", "\ud800", "é" * 3, [], {},
    [None], [[]], {"a": None}, ["read"], [""], "ENOSYS", "38", "/run/x.sock", "SECCOMP_FILTER_FLAG_LOG",
]  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def mutate_structure(doc: Any, rnd: random.Random) -> Any:
    """One structural mutation of a decoded document (the document is changed in place and returned)."""
    paths = _paths(doc)
    path = rnd.choice(paths)
    target = _get(doc, path)
    kind = rnd.randrange(10)
    if kind == 0:
        return _set(doc, path, copy.deepcopy(rnd.choice(WEIRD_VALUES)))
    if kind == 1 and isinstance(target, dict) and target:
        del target[rnd.choice(list(target))]
        return doc
    if kind == 2 and isinstance(target, dict) and target:
        key = rnd.choice(list(target))
        new = rnd.choice([key.upper(), key.capitalize(), key + "s", key.replace("s", "\u017f"), "x" + key])
        if new not in target:
            target[new] = target.pop(key)
        return doc
    if kind == 3 and isinstance(target, list):
        if target and rnd.random() < 0.5:
            target.extend(copy.deepcopy(rnd.choice(target)) for _ in range(rnd.randrange(1, 50)))
        else:
            target.clear()
        return doc
    if kind == 4:
        nested: Any = copy.deepcopy(target)
        for _ in range(rnd.choice([3, 60, 70, 500])):
            nested = [nested] if rnd.random() < 0.5 else {"x": nested}
        return _set(doc, path, nested)
    if kind == 5 and isinstance(target, dict):
        target[rnd.choice(["names", "name", "action", "args", "includes", "excludes", "errno", "errnoRet",
                           "minKernel", "caps", "arches", "archMap", "architectures", "defaultErrno", "flags",
                           "listenerPath", "comment", "index", "op", "value", "valueTwo", "rules", "scope",
                           "images", "allow", "deny", "template", "schema"])] = copy.deepcopy(rnd.choice(WEIRD_VALUES))  # fmt: skip
        return doc
    if kind == 6 and isinstance(target, str):
        return _set(doc, path, rnd.choice([target.upper(), target.lower(), target[:-1], target + target, ""]))
    if kind == 7 and isinstance(target, int) and not isinstance(target, bool):
        return _set(doc, path, rnd.choice([target + 1, -target, target * 2**40, 4095, 4096, 5, 6, 2**64]))
    if kind == 8 and isinstance(target, list) and len(target) > 1:
        rnd.shuffle(target)
        return doc
    return _set(doc, path, copy.deepcopy(rnd.choice(WEIRD_VALUES))) if path else doc


def to_text(doc: Any, rnd: random.Random, *, yaml_ok: bool) -> bytes:
    """Serialise, sometimes with a duplicated key or as YAML; a document too deep for json.dumps is written by hand."""
    try:
        return _to_text(doc, rnd, yaml_ok=yaml_ok)
    except RecursionError:
        depth = rnd.choice([100, 5000, 200_000])
        return ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": ' + "[" * depth + "]" * depth + "}").encode()


def _to_text(doc: Any, rnd: random.Random, *, yaml_ok: bool) -> bytes:
    if yaml_ok and rnd.random() < 0.5:
        import yaml

        return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    text = json.dumps(doc, ensure_ascii=rnd.random() < 0.5, indent=rnd.choice([None, 1, 2]))
    if rnd.random() < 0.05 and '": ' in text:  # a key given twice
        at = text.index('": ')
        start = text.rfind('"', 0, at) + 0
        key = text[start : at + 1]
        text = text.replace(key + ": ", key + ": 1, " + key + ": ", 1) if text[start - 1] in "{, \n" else text
    return text.encode("utf-8", "surrogatepass")


def mutate_bytes(data: bytes, rnd: random.Random) -> bytes:
    """One byte-level mutation."""
    kind = rnd.randrange(8)
    if kind == 0 and data:
        buf = bytearray(data)
        for _ in range(rnd.randrange(1, 8)):
            buf[rnd.randrange(len(buf))] ^= 1 << rnd.randrange(8)
        return bytes(buf)
    if kind == 1 and data:
        return data[: rnd.randrange(len(data))]
    if kind == 2:
        return b"\xef\xbb\xbf" + data
    if kind == 3:
        return data.decode("utf-8", "replace").encode("utf-16")
    if kind == 4 and data:
        at = rnd.randrange(len(data))
        return data[:at] + rnd.choice([b"\x00", b'"', b"\\", b"\xff", b"{", b"]", b"\n", b"9" * 60]) + data[at:]
    if kind == 5:
        return data + data
    if kind == 6 and data:
        at = rnd.randrange(len(data))
        return data[:at] + data[rnd.randrange(len(data)) :]
    return data


# --- running one input ---------------------------------------------------------------------------------

Runner = Callable[[Path], object]


def _runners(kind: str) -> list[tuple[str, Runner, float]]:
    """(name, call, share of inputs) for a profile or a policy file."""
    from seccompose import _reader
    from seccompose.arch import Arch
    from seccompose.engines import ENGINES, engine_document, ignored, setup
    from seccompose.lint import lint_file

    if kind == "policy":
        from seccompose.policy import Container, load_policy

        def policy(path: Path) -> object:
            return load_policy(path).profile_for(Container("redis:7", Arch.X86_64))

        return [("policy", policy, 1.0)]

    def render(path: Path) -> object:
        data = _reader.read_bytes(path)
        out: list[object] = []
        for engine in ENGINES:
            try:
                doc = engine_document(data, engine=engine, source=str(path))
                out.append(setup(doc, engine=engine, arch=Arch.X86_64, caps=["CAP_CHOWN"], kernel=(6, 1)))
                out.append(ignored(doc, engine=engine))
            except Exception as exc:
                out.append(_answer(exc))
        return out

    def compose(path: Path) -> object:
        from seccompose.compose import compose
        from seccompose.formats import dumps

        return dumps(compose(str(path), arch=Arch.X86_64, runtime=None), format="docker")

    def summary(path: Path) -> object:
        from seccompose._inputs import read_profile
        from seccompose.explain import summarize

        return summarize(read_profile(str(path), arch=Arch.X86_64, runtime=None), arch=Arch.X86_64)

    def diff(path: Path) -> object:
        from seccompose.diff import diff_files

        return diff_files(str(path), "default", arch=Arch.X86_64, runtime=None)

    def check(path: Path) -> object:
        from seccompose.check import check, extract_seccomp

        return check(extract_seccomp(_reader.read_json(path), arch=Arch.X86_64), source=str(path))

    return [
        ("lint", lambda p: lint_file(str(p), engines=ENGINES), 1.0),
        ("render", render, 1.0),
        ("compose", compose, 0.25),
        ("explain", summary, 0.15),
        ("diff", diff, 0.1),
        ("check", check, 0.15),
    ]


def _answer(exc: Exception) -> object:
    from seccompose.errors import SeccomposeError

    if isinstance(exc, (SeccomposeError, OSError)):
        return type(exc).__name__
    raise exc


def _worker(args: tuple[int, int, int, str, float, bool]) -> tuple[int, list[tuple[str, str, str]], float]:
    seed, start, count, out, seconds, limit = args
    if limit:  # a worker process: an input that blows memory up fails here, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    rnd = random.Random(seed)
    runners = {"profile": _runners("profile"), "policy": _runners("policy")}
    originals = [(p.read_bytes(), "profile") for p in PROFILES]
    originals += [(p.read_bytes(), "policy") for p in POLICIES] + [(t.encode(), "policy") for t in INLINE_POLICIES]
    failures: list[tuple[str, str, str]] = []
    slowest = 0.0
    work = Path(out) / f"work-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        data, kind = rnd.choice(originals)
        data = _mutated(data, kind, rnd)
        suffix = ".yaml" if kind == "policy" and rnd.random() < 0.5 else ".json"
        path = work / f"input{suffix}"
        path.write_bytes(data)
        for name, call, share in runners[kind]:
            if rnd.random() >= share:
                continue
            began = time.monotonic()
            try:
                call(path)
            except Exception as exc:
                try:
                    _answer(exc)
                except Exception:
                    saved = Path(out) / f"internal-{n}-{name}{suffix}"
                    saved.write_bytes(data)
                    failures.append((name, str(saved), "".join(traceback.format_exception(exc))[-1500:]))
            took = time.monotonic() - began
            slowest = max(slowest, took)
            if took > seconds:
                saved = Path(out) / f"slow-{n}-{name}{suffix}"
                saved.write_bytes(data)
                failures.append((name, str(saved), f"took {took:.1f} s (over {seconds} s)"))
    return count, failures, slowest


def _mutated(data: bytes, kind: str, rnd: random.Random) -> bytes:
    if rnd.random() < 0.75:
        try:
            if kind == "policy":
                import yaml

                doc = yaml.safe_load(data)
            else:
                doc = json.loads(data.decode("utf-8-sig"))
        except Exception:
            return mutate_bytes(data, rnd)
        try:
            for _ in range(rnd.randrange(1, 5)):
                doc = mutate_structure(doc, rnd)
        except RecursionError:  # the fuzzer's own walk of a document it nested too deep: send a deep one
            doc = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}
            data = b'{"syscalls": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            return mutate_bytes(data, rnd) if rnd.random() < 0.25 else data
        data = to_text(doc, rnd, yaml_ok=kind == "policy")
    if rnd.random() < 0.25:
        data = mutate_bytes(data, rnd)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="inputs to try (default 100,000)")
    parser.add_argument("--seed", type=int, default=15, help="the first worker's seed (default 15)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--seconds", type=float, default=10.0, help="the longest one input may take")
    parser.add_argument("--out", default="/tmp/seccompose-fuzz", help="where failing inputs are saved")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    chunk = 500
    tasks = [
        (args.seed + i, i * chunk, min(chunk, args.count - i * chunk), args.out, args.seconds, True)
        for i in range((args.count + chunk - 1) // chunk)
    ]
    began = time.monotonic()
    done = 0
    failures: list[tuple[str, str, str]] = []
    slowest = 0.0
    with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=20) as pool:
        for count, found, slow in pool.imap_unordered(_worker, tasks):
            done += count
            failures += found
            slowest = max(slowest, slow)
            if done % 10_000 < chunk:
                print(f"fuzz: {done:,} inputs, {len(failures)} failure(s), {time.monotonic() - began:.0f} s", flush=True)
    print(f"fuzz: {done:,} inputs in {time.monotonic() - began:.0f} s; slowest call {slowest:.2f} s; "
          f"{len(failures)} internal error(s) or hang(s)")  # fmt: skip
    for name, saved, why in failures[:20]:
        print(f"--- {name} on {saved}\n{why}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
