"""The Docker/Podman profile reader: what the engines accept, ignore and refuse."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from seccompose import errors
from seccompose.errors import DocumentTooLargeError, FormatError, InvalidEngineError, SeccomposeError
from seccompose.formats.docker_profile import (
    MAX_PROFILE_BYTES,
    DockerProfile,
    KernelVersion,
    load_docker_profile,
    parse_docker_profile,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
BAD = FIXTURES / "bad" / "docker"
PROFILES = FIXTURES / "reference" / "profiles"
EXPECTED: dict[str, dict[str, Any]] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))


def _doc(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"defaultAction": "SCMP_ACT_ERRNO", **top, "syscalls": list(rules)}


# --- bad fixtures ------------------------------------------------------------------------------


def test_every_bad_fixture_is_mapped() -> None:
    on_disk = {p.name for p in BAD.glob("*.json")} - {"expected.json"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture(name: str) -> None:
    want = EXPECTED[name]
    with pytest.raises(SeccomposeError) as info:
        load_docker_profile(BAD / name, engine=want["engine"])
    assert type(info.value) is getattr(errors, want["error"]), str(info.value)
    message = str(info.value)
    assert want["fragment"] in message
    assert str(BAD / name) in message  # the file is named
    if want["location"]:
        assert f"at {want['location']}" in message
    assert "Traceback" not in message


# --- size limit ----------------------------------------------------------------------------------


def test_50_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "huge.json"
    with big.open("wb") as f:  # a real 50 MB JSON document
        f.write(b'{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [')
        chunk = b'{"names": ["read"], "action": "SCMP_ACT_ALLOW"},' * 20_000
        while f.tell() < 50 * 1024 * 1024:
            f.write(chunk)
        f.write(b'{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}')
    start = time.perf_counter()
    with pytest.raises(DocumentTooLargeError, match=r"over the 4,194,304-byte limit") as info:
        load_docker_profile(big)
    assert time.perf_counter() - start < 0.5
    assert info.value.size is not None
    assert info.value.size >= 50 * 1024 * 1024
    assert str(big) in str(info.value)


def test_50_mb_text_is_refused_quickly() -> None:
    text = " " * (50 * 1024 * 1024)
    start = time.perf_counter()
    with pytest.raises(DocumentTooLargeError):
        parse_docker_profile(text)
    with pytest.raises(DocumentTooLargeError):
        parse_docker_profile(text.encode())
    assert time.perf_counter() - start < 0.5


def test_limit_counts_utf8_bytes_of_text() -> None:
    # 3 bytes per character: under the limit in characters, over it in bytes.
    text = "\u20ac" * (MAX_PROFILE_BYTES // 2)
    with pytest.raises(DocumentTooLargeError):
        parse_docker_profile(text)


def test_a_smaller_limit_can_be_asked_for() -> None:
    with pytest.raises(DocumentTooLargeError, match="100-byte limit"):
        parse_docker_profile(json.dumps(_doc({"names": ["read"] * 20, "action": "SCMP_ACT_ALLOW"})), max_bytes=100)


# --- what Go's decoder tolerates -----------------------------------------------------------------


def test_unknown_keys_are_ignored_and_listed() -> None:
    doc = parse_docker_profile(
        _doc({"names": ["read"], "action": "SCMP_ACT_ALLOW", "reason": "x", "includes": {"kernel": "5"}}, note=1)
    )
    assert doc.ignored == ("note", "syscalls[0].reason", "syscalls[0].includes.kernel")
    assert doc.syscalls[0].syscall_names == ("read",)


def test_keys_match_case_insensitively_like_go() -> None:
    doc = parse_docker_profile(
        {"DefaultAction": "SCMP_ACT_ERRNO", "SYSCALLS": [{"Names": ["read"], "ACTION": "SCMP_ACT_ALLOW"}]}
    )
    assert doc.default_action == "SCMP_ACT_ERRNO"
    assert doc.syscalls[0].names == ("read",)


def test_null_is_the_same_as_absent() -> None:
    doc = parse_docker_profile(
        _doc(
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": None, "errnoRet": None, "includes": None},
            defaultErrnoRet=None,
            archMap=None,
        )
    )
    rule = doc.syscalls[0]
    assert (rule.args, rule.errno_ret, rule.includes, doc.default_errno_ret, doc.arch_map) == ((), None, None, None, ())


def test_empty_lists_do_not_conflict() -> None:
    # Go checks len(): "name" with "names": [] and "architectures": [] with archMap are fine.
    doc = parse_docker_profile(
        _doc(
            {"name": "read", "names": [], "action": "SCMP_ACT_ALLOW"},
            architectures=[],
            archMap=[{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": None}],
        )
    )
    assert doc.syscalls[0].syscall_names == ("read",)


def test_missing_arg_index_and_value_are_zero() -> None:
    doc = parse_docker_profile(
        _doc({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"op": "SCMP_CMP_EQ"}]})
    )
    arg = doc.syscalls[0].args[0]
    assert (arg.index, arg.value, arg.value_two) == (0, 0, 0)


def test_missing_op_is_an_error() -> None:
    with pytest.raises(
        errors.InvalidProfileError, match=r"required key 'op' is missing.*at syscalls\[0\]\.args\[0\]\.op"
    ):
        parse_docker_profile(_doc({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0}]}))


# --- minKernel ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("4.8", (4, 8)),
        ("04.08", (4, 8)),  # ParseUint accepts leading zeros
        ("255.255", (255, 255)),
        ("0.1", (0, 1)),
        ("", (0, 0)),  # moby: "" leaves the zero version, which every kernel satisfies
    ],
)
def test_min_kernel_accepted(text: str, version: tuple[int, int]) -> None:
    kv = KernelVersion.parse(text)
    assert (kv.major, kv.minor) == version


@pytest.mark.parametrize("text", ["4", "4.8.1", "4.x", "v4.8", "-4.8", "256.0", "0.0", " 4.8", "4.8-rc1", "4.\u0668"])
def test_min_kernel_refused(text: str) -> None:
    with pytest.raises(ValueError, match="minKernel"):
        KernelVersion.parse(text)


def test_podman_ignores_a_bad_min_kernel() -> None:
    rule = {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four.eight"}}
    doc = parse_docker_profile(_doc(rule), engine="podman")
    assert doc.syscalls[0].includes is not None
    assert doc.syscalls[0].includes.min_kernel is None
    assert "syscalls[0].includes.minKernel" in doc.ignored
    with pytest.raises(errors.InvalidProfileError, match=r"four\.eight"):
        parse_docker_profile(_doc(rule), engine="docker")


def test_release_strings() -> None:
    assert KernelVersion.from_release("3.12-1-amd64") == KernelVersion(major=3, minor=12)
    assert KernelVersion.from_release("6.18.44-gentoo") == KernelVersion(major=6, minor=18)
    with pytest.raises(ValueError, match="does not start"):
        KernelVersion.from_release("linux-6.18")


# --- errno names (Podman) ------------------------------------------------------------------------


def test_podman_errno_names_override_numbers() -> None:
    doc = parse_docker_profile(
        _doc(
            {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "ENOSYS"},
            defaultErrnoRet=1,
            defaultErrno="EACCES",
        ),
        engine="podman",
    )
    assert doc.default_errno_value == 13
    assert doc.syscalls[0].errnoish == 38


def test_podman_errno_as_decimal_text() -> None:
    doc = parse_docker_profile(_doc({"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "38"}), engine="podman")
    assert doc.syscalls[0].errnoish == 38


def test_podman_errno_names_are_case_sensitive() -> None:
    # containers/common looks the name up in a map keyed "EPERM", "ENOSYS", ...
    with pytest.raises(errors.InvalidActionError, match="unknown errno 'enosys'"):
        parse_docker_profile(_doc({"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "enosys"}), engine="podman")


def test_docker_accepts_errno_names_that_agree() -> None:
    doc = parse_docker_profile(_doc({"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "EPERM"}))
    assert doc.syscalls[0].errno_ret == 1
    assert doc.ignored == ("syscalls[0].errno",)


# --- the engines' own profiles -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["docker", "podman"])
@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.json")), ids=lambda p: p.name)
def test_reference_profiles_read(path: Path, engine: str) -> None:
    doc = load_docker_profile(path, engine=engine)  # type: ignore[arg-type]
    source = json.loads(path.read_text(encoding="utf-8"))
    assert len(doc.syscalls) == len(source["syscalls"])
    assert [list(r.syscall_names) for r in doc.syscalls] == [r["names"] for r in source["syscalls"]]
    assert doc.default_action == source["defaultAction"]


def test_model_is_frozen_and_hashable() -> None:
    doc = load_docker_profile(PROFILES / "docker-default-moby-profiles-cd3bed8.json")
    assert isinstance(hash(doc), int)
    with pytest.raises(Exception, match="frozen"):
        doc.default_action = "SCMP_ACT_ALLOW"  # type: ignore[misc]


def test_dump_and_read_again_is_the_same() -> None:
    doc = load_docker_profile(PROFILES / "docker-default-20.10.24.json")
    dumped = doc.model_dump(mode="json", by_alias=True, exclude={"ignored", "engine"}, exclude_defaults=True)
    assert parse_docker_profile(json.dumps(dumped)) == doc


def test_bytes_must_be_utf8() -> None:
    with pytest.raises(FormatError, match="not UTF-8"):
        parse_docker_profile(b'{"defaultAction": "SCMP_ACT_\xff"}')


def test_deep_nesting_is_a_format_error() -> None:
    with pytest.raises(FormatError):
        parse_docker_profile("[" * 100_000 + "]" * 100_000)


def test_unknown_engine() -> None:
    with pytest.raises(InvalidEngineError, match=r"use one of docker, docker-20\.10, podman"):
        parse_docker_profile(_doc(), engine="lxc")  # type: ignore[arg-type]


def test_docker_profile_validates_on_construction() -> None:
    with pytest.raises(Exception, match="unknown action"):
        DockerProfile.model_validate({"defaultAction": "SCMP_ACT_NOPE"})
