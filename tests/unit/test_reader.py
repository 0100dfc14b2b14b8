"""The one bounded reader (seccompose._reader): limits, encodings, duplicate keys, names vs paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from seccompose._reader import (
    MAX_DEPTH,
    decode,
    max_input_bytes,
    override_max_bytes,
    parse_json,
    parse_size,
    parse_yaml,
    read_bytes,
    resolve,
)
from seccompose.cli import main
from seccompose.errors import DocumentTooLargeError, FormatError, TemplateNotFoundError
from seccompose.loader import load_template

PROFILE = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}'


# --- encodings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (PROFILE.encode("utf-16"), "UTF-16, not UTF-8"),
        (PROFILE.encode("utf-16-be"), "UTF-16/32 text without a byte-order mark"),
        (PROFILE.encode("utf-32"), "UTF-32, not UTF-8"),
        (PROFILE.encode("utf-32-le"), "UTF-16/32 text without a byte-order mark"),
        (b'{"a": "caf\xe9"}', "not UTF-8 text (invalid continuation byte at byte 10, line 1)"),
        (b'{"a": 1}\x00', "NUL character at offset 8: binary data"),
    ],
)
def test_only_utf8_is_text(data: bytes, fragment: str) -> None:
    with pytest.raises(FormatError) as info:
        parse_json(data, source="p.json")
    assert fragment in str(info.value)
    assert "p.json" in str(info.value)


@pytest.mark.parametrize("data", [PROFILE.encode(), b"\xef\xbb\xbf" + PROFILE.encode(), "\ufeff" + PROFILE])
def test_utf8_with_or_without_bom(data: bytes | str) -> None:
    assert parse_json(data) == json.loads(PROFILE)


def test_every_command_reads_a_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: some commands took a BOM and others refused it
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + PROFILE.encode())
    for argv in (["lint", str(path)], ["explain", str(path)], ["check", str(path)], ["compose", "--base", str(path)],
                 ["diff", str(path), str(path)], ["explain", "read", "--profile", str(path)]):  # fmt: skip
        assert main(argv) in (0, 1), (argv, capsys.readouterr().err)
        assert "error" not in capsys.readouterr().err


def test_lone_surrogates_become_replacement_characters() -> None:
    # Go's decoder does the same; Python would keep a str that cannot be written as UTF-8
    value = parse_json('{"comment": "a\\ud800b"}')
    assert value == {"comment": "a\ufffdb"}
    value["comment"].encode("utf-8")


# --- limits -----------------------------------------------------------------------------------------


def test_depth_limit_is_exact() -> None:
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(FormatError, match=f"nested deeper than {MAX_DEPTH} levels at line 1 column {MAX_DEPTH + 1}"):
        parse_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_depth_over_the_recursion_limit() -> None:
    with pytest.raises(FormatError, match="nested deeper than 64 levels"):
        parse_json('{"a": ' * 200_000)  # malformed too, but the depth is what is reported first
    with pytest.raises(FormatError, match="nested deeper than 64 levels"):
        parse_yaml("- " * 100_000 + "x")


def test_integer_limits() -> None:
    assert parse_json('{"v": 18446744073709551615}') == {"v": 2**64 - 1}
    with pytest.raises(FormatError, match="a 41-digit integer at line 2 column 7"):
        parse_json('{"a": 1,\n "v": ' + "1" * 41 + "}")
    with pytest.raises(FormatError, match="a 5000-digit integer"):
        parse_yaml("v: " + "7" * 5000)
    with pytest.raises(FormatError, match="digit integer"):
        parse_yaml("v: " + "1:" * 100 + "0")  # YAML 1.1 base 60


def test_negative_zero_is_not_an_unsigned_zero() -> None:
    # Go refuses -0 for the unsigned fields the engines read; Python would make it 0
    value = parse_json('{"errnoRet": -0}')["errnoRet"]
    assert isinstance(value, float)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_no_nan(constant: str) -> None:
    with pytest.raises(FormatError, match=f"{constant} is not a JSON number"):
        parse_json('{"v": ' + constant + "}")


def test_size_limit_on_text_counts_utf8_bytes() -> None:
    with override_max_bytes(10):
        decode("é" * 5)  # 10 bytes
        with pytest.raises(DocumentTooLargeError, match="11 bytes, over the 10-byte limit"):
            decode("é" * 5 + "a")


def test_size_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECCOMPOSE_MAX_INPUT_BYTES", "64M")
    assert max_input_bytes() == 64 << 20
    monkeypatch.setenv("SECCOMPOSE_MAX_INPUT_BYTES", "lots")
    with pytest.raises(FormatError, match="'lots' is not a size"):
        max_input_bytes()


@pytest.mark.parametrize(("text", "size"), [("1", 1), ("16M", 16 << 20), ("2GiB", 2 << 30), (" 512 k ", 512 << 10)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0", "-1", "1T", "", "1.5M"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(FormatError):
        parse_size(text)


def test_read_bytes_stops_at_the_limit_on_a_stream() -> None:
    with pytest.raises(DocumentTooLargeError, match="document is over 100 bytes"):
        read_bytes("/dev/zero", limit=100)


def test_read_bytes_refuses_a_big_file_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(1 << 40)  # a sparse terabyte
    with pytest.raises(DocumentTooLargeError, match="1,099,511,627,776 bytes"):
        read_bytes(big)


def test_read_bytes_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="is a directory"):
        read_bytes(tmp_path)
    with pytest.raises(FormatError, match="cannot read: No such file"):
        read_bytes(tmp_path / "missing.json")
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    secret.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(FormatError, match="cannot read: Permission denied"):
            read_bytes(secret)


# --- duplicate keys (issue 14, item 7: "Duplicate keys in YAML or JSON policy and profile files are
# errors naming both places"; Go's encoding/json and PyYAML silently keep the last) -------------------------


def test_duplicate_json_key_names_both_places() -> None:
    text = '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n    {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO",\n     "names": []}\n  ]\n}'
    with pytest.raises(FormatError) as info:
        parse_json(text, source="p.json")
    assert str(info.value) == (
        "key 'names' is given twice in syscalls[0]: at line 4 column 6 and line 5 column 6; keep one "
        "(the engines would silently use the last) in p.json"
    )


def test_duplicate_json_key_at_the_top_and_deep() -> None:
    with pytest.raises(FormatError, match="key 'a' is given twice at the top level: at line 1 column 2 and line 1 column 10"):
        parse_json('{"a": 1, "a": 2}')
    with pytest.raises(FormatError, match=r"in x\[1\]\.y\[0\]: at line 1 column 20"):
        parse_json('{"x": [{}, {"y": [{"k": "\\"{", "k": 2}]}]}')


def test_same_key_in_different_objects_is_fine() -> None:
    assert parse_json('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]


def test_duplicate_yaml_key_names_both_places() -> None:
    text = "rules:\n  - name: no-ptrace\n    deny: [ptrace]\n    deny: [mount]\n"
    with pytest.raises(FormatError) as info:
        parse_yaml(text, source="policy.yaml")
    assert "key 'deny' is given twice in a mapping: at line 3 column 5 and line 4 column 5" in str(info.value)
    assert "policy.yaml" in str(info.value)


def test_duplicate_keys_in_a_policy_file_fail_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 14's reproduction: two `rules:` blocks, the second silently dropping the first deny
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - name: a\n    deny: [ptrace]\nrules:\n  - name: b\n    allow: [mount]\n")
    assert main(["compose", "--policy", str(policy), "--image", "redis:7"]) == 2
    assert "key 'rules' is given twice in a mapping: at line 1 column 1 and line 4 column 1" in capsys.readouterr().err
    as_json = tmp_path / "policy.json"
    as_json.write_text('{"rules": [{"name": "a", "deny": ["ptrace"], "deny": []}]}')
    assert main(["compose", "--policy", str(as_json), "--image", "redis:7"]) == 2
    assert "key 'deny' is given twice in a mapping" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["lint"], ["check"], ["explain"], ["compose", "--base"], ["diff", "default"]])
def test_duplicate_keys_in_a_profile_fail_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], '
                    '"action": "SCMP_ACT_ERRNO", "action": "SCMP_ACT_ALLOW"}]}')  # fmt: skip
    assert main([*command, str(path)]) == 2
    assert "key 'action' is given twice in syscalls[0]" in capsys.readouterr().err


def test_yaml_safe_tags_only() -> None:
    with pytest.raises(FormatError, match="malformed YAML: could not determine a constructor"):
        parse_yaml("a: !!python/object/apply:os.system [true]")


# --- names and paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind"),
    [("-", "stdin"), ("nginx", "name"), ("nginx.json", "file"), ("./nginx", "file"), ("/tmp/x", "file"),
     ("a.yaml", "file"), ("a.yml", "file"), ("default", "name"), ("my-profile", "name")],
)
def test_resolve(spec: str, kind: str) -> None:
    assert resolve(spec) == kind


@pytest.mark.parametrize(
    "argv",
    [["lint", "nginx"], ["explain", "nginx"], ["check", "nginx"], ["compose", "--base", "nginx"],
     ["diff", "nginx", "nginx"], ["explain", "read", "--profile", "nginx"]],
)
def test_a_bare_name_is_the_template_even_with_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    # issue 15: lint/diff/explain read ./nginx where compose --base nginx used the template
    monkeypatch.chdir(tmp_path)
    Path("nginx").write_text("this is not JSON")
    assert main(argv) in (0, 1), capsys.readouterr().err
    assert "error" not in capsys.readouterr().err


def test_a_name_that_is_no_template_says_how_to_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mine").write_text(PROFILE)
    assert main(["lint", "mine"]) == 2
    assert "to read the file 'mine' in this directory, write './mine'" in capsys.readouterr().err
    assert main(["lint", "./mine", "--runtime", "none"]) == 0  # (a toy profile no runtime could start)
    with pytest.raises(TemplateNotFoundError):
        load_template("mine")
