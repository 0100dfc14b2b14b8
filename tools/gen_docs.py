"""Generate the documentation pages that come from seccompose's own data and code.

Writes docs/generated/:
  lint-rules.md     the lint rules (seccompose.lint.RULES): id, severity, explanation, fix
  templates.md      the template catalogue (data/templates/*.json): images, provenance, sizes
  capabilities.md   the capability maps (data/capabilities/): what each capability unlocks
  families.md       syscall families and the i386 multiplexers' calls (data/syscalls/families.tsv, multiplexers.tsv)
  cli.md            every command's --help, examples included
  policy.md         the policy file reference, from its schema (seccompose._policy_schema)

Usage:
  python tools/gen_docs.py            write the pages
  python tools/gen_docs.py --check    exit 1 if a page differs from what would be written
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))  # these scripts are also loaded by file path in tests

from _drift import write_or_check  # noqa: E402 - after the path setup
from seccompose.arch import Arch  # noqa: E402 - after the path setup
from seccompose.caps import all_capabilities, load_capability_map  # noqa: E402
from seccompose.compose import compose  # noqa: E402
from seccompose.lint import RULES  # noqa: E402
from seccompose.loader import load_template, template_names  # noqa: E402

OUT = ROOT / "docs" / "generated"
HOSTS = (Arch.X86_64, Arch.AARCH64)


def _banner(what: str) -> str:
    return (
        f"<!-- DO NOT EDIT. Generated from {what} by `python tools/gen_docs.py`; "
        "`python tools/gen_docs.py --check` (nox -s data) fails on drift. -->\n\n"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def lint_rules() -> str:
    lines = [_banner("seccompose.lint.RULES"), "# Lint rules\n"]
    lines.append(
        "`seccompose lint PROFILE` checks every rule below. Errors make it exit 1; warnings too with "
        "`--strict`; `--ignore ID` skips a rule. Info findings never fail.\n"
    )
    lines.append("| id | severity | pitfall |\n|---|---|---|")
    lines += [f"| [`{r.id}`](#{r.id}) | {r.severity} | {_cell(r.title)} |" for r in RULES]
    lines.append("")
    for r in RULES:
        lines += [
            f"## `{r.id}` {{#{r.id}}}\n",
            f"**{r.severity}** — {r.title}.\n",
            f"{r.explanation}\n",
            f"**Fix:** {r.fix}\n",
        ]
    return "\n".join(lines)


def _allowed(name: str, arch: Arch) -> int:
    return len(compose(name, arch=arch, caps=[], runtime=None).allowed())


def _docker_profile_size(name: str, arch: Arch) -> int:
    """Syscalls allowed by ``seccompose compose --base NAME`` as a Docker container gets it (Docker's default
    capabilities, runc's base set): what the catalogue compares with ``default`` composed the same way."""
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES

    return len(compose(name, arch=arch, caps=DOCKER_DEFAULT_CAPABILITIES).allowed())


def _groups(name: str) -> str:
    """The template's allowed syscalls (x86_64, by itself) counted by the six groups of seccompose.categories."""
    from collections import Counter

    from seccompose.categories import group_of
    from seccompose.errors import UnknownSyscallError

    counts: Counter[str] = Counter()
    for syscall in compose(name, arch=Arch.X86_64, caps=[], runtime=None).allowed():
        with contextlib.suppress(UnknownSyscallError):
            counts[group_of(syscall)] += 1
    return ", ".join(f"{g} {n}" for g, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _image_section(name: str, prov: dict[str, str]) -> list[str]:
    """What a template recorded from its image says: entrypoint, capabilities, packages, example commands."""
    image = prov["image"]
    lines = [f"- image: `{image}` (built by `tools/images.py` from `images/{name}/`)"]
    for key, label in (("entrypoint", "entrypoint steps recorded"), ("capabilities", "capabilities"),
                       ("packages", "package versions")):  # fmt: skip
        if prov.get(key):
            lines.append(f"- {label}: {_cell(prov[key])}")
    caps = prov.get("capabilities", "")
    drop = caps if caps.startswith("--cap-drop") else ""
    lines += [
        "",
        "```sh",
        "# Docker (Docker's default capabilities)",
        f"seccompose compose --base {name} --format docker -o {name}.json",
        f"docker run --security-opt seccomp={name}.json {image}",
    ]
    if drop:
        lines += [
            "# Docker, only the capabilities the image needs",
            f"seccompose compose --base {name} {drop} --format docker -o {name}-min.json",
            f"docker run {drop} --security-opt seccomp={name}-min.json {image}",
        ]
    lines += [
        "# Podman (crun): the same file",
        f"podman run --security-opt seccomp={name}.json {image}",
        "# Kubernetes: the file goes to /var/lib/kubelet/seccomp/profiles/ on each node",
        f"seccompose compose --base {name} --format localhost -o {name}.json",
        "```",
        "",
        "```yaml",
        "securityContext:",
        "  seccompProfile:",
        "    type: Localhost",
        f"    localhostProfile: profiles/{name}.json",
        "```",
        "",
    ]
    return lines


def templates() -> str:
    lines = [_banner("data/templates/*.json"), "# Template catalogue\n"]
    lines.append(
        "The templates shipped in `data/templates/`. *Allowed* counts the syscalls a template allows "
        "outright by itself (a container with no capabilities and no runtime base set); "
        "`seccompose compose --base NAME` adds the capabilities' and the runtime's syscalls. "
        "*For Docker* counts what `seccompose compose --base NAME` allows a container with Docker's "
        "default capabilities on x86_64 (runc's base set included), and *default ÷ template* how many times "
        "fewer syscalls that is than `default` composed the same way. "
        "See [the template format](../reference/template-format.md); the app templates are recorded from "
        "images that start the way the official ones do (`images/README.md`, `tools/record_images.py`).\n"
    )
    lines.append(
        "| template | allowed on x86_64 | allowed on aarch64 | for Docker (x86_64) | default ÷ template | images |"
    )
    lines.append("|---|---|---|---|---|---|")
    names = template_names()
    baseline = _docker_profile_size("default", Arch.X86_64)
    for name in names:
        t = load_template(name)
        images = ", ".join(f"`{i}`" for i in t.images) or "—"
        size = _docker_profile_size(name, Arch.X86_64)
        lines.append(
            f"| [`{name}`](#{name}) | {_allowed(name, Arch.X86_64)} | {_allowed(name, Arch.AARCH64)} | {size} "
            f"| {baseline / size:.1f} | {images} |"
        )
    lines.append("")
    for name in names:
        t = load_template(name)
        lines += [f"## `{name}` {{#{name}}}\n", f"{_cell(t.description)}\n" if t.description else ""]
        default = t.default_action.value if t.default_action else "the composition's errno policy"
        lines.append(f"- rules: {len(t.rules)}; default action: {default}; "
                     f"capability map: {t.capability_map or 'gated in the template'}")  # fmt: skip
        lines.append(f"- allowed by group (x86_64): {_groups(name)}")
        if t.startup is not None and t.startup.names:
            lines.append(f"- startup only (refused once the server listens, under `--observe`): "
                         f"{', '.join(f'`{n}`' for n in t.startup.names)}")  # fmt: skip
        prov = dict(t.provenance)
        for key in ("program", "version", "workload", "kernel", "arch", "date", "tool"):
            if prov.get(key):
                lines.append(f"- {key}: {_cell(prov[key])}")
        if prov.get("image"):
            lines += _image_section(name, prov)
        lines.append("")
    return "\n".join(lines)


def capabilities() -> str:
    docker = load_capability_map("docker")
    kernel = load_capability_map("kernel")
    lines = [_banner("data/capabilities/*.tsv"), "# Capability map\n"]
    lines.append(
        "Which syscalls each capability unlocks, on an x86_64 host (which also runs x86 and x32 "
        "programs). Two maps: **docker** is exactly the capability gates of Docker's current default "
        "profile; **kernel** is the syscalls capabilities(7) says fail outright without the capability. "
        "`compose` adds the syscalls of the template's map for the container's capabilities; "
        "`seccompose caps CAP` shows the same per arch.\n"
    )
    lines.append("| capability | number | since | docker map | kernel map |\n|---|---|---|---|---|")
    for cap in sorted(all_capabilities()):
        d = ", ".join(docker.syscalls(cap, Arch.X86_64)) or "—"
        k = ", ".join(kernel.syscalls(cap, Arch.X86_64)) or "—"
        lines.append(f"| `{cap.name}` | {cap.number} | {cap.since} | {d} | {k} |")
    lines.append("")
    return "\n".join(lines)


def families() -> str:
    from seccompose.syscalls import families as host_families
    from seccompose.syscalls import subcalls, table

    lines = [_banner("data/syscalls/families.tsv and multiplexers.tsv"), "# Syscall families and multiplexers\n"]
    lines.append(
        "A deny of one name denies its whole *family*: the names of the same kernel operation on every ABI "
        "the host runs (an x86_64 host runs x86_64, i386 and x32 programs; an aarch64 host aarch64 and "
        "32-bit arm ones). `tools/gen_families.py` groups the names by the entry points of the kernel's "
        "syscall tables (Linux 7.2.13), after taking away what only says which form of the operation an "
        "entry point is (`16`: 16-bit ids, `_time32`/`32`: 32-bit time, `64`: 64-bit offsets or layout, "
        "`old`/`new`: struct layout or argument passing, `rt_`: the real-time signal set) and a few pairs "
        "the kernel implements one through the other (`mmap2`, `_llseek`, `waitpid`, `readdir`, `signal`, "
        "`sgetmask`/`ssetmask`; on arm `send`, `recv`, `arm_fadvise64_64`, `sync_file_range2`). "
        "`--deny-exact NAME` denies the name alone.\n"
    )
    for host in HOSTS:
        lines.append(f"## {host.value} hosts ({', '.join(a.value for a in host.abis)})\n")
        lines.append("| family | " + " | ".join(a.value for a in host.abis) + " |\n|---|" + "---|" * len(host.abis))
        named = {next((n for n in fam if n in table(host)), fam[0]): fam for fam in set(host_families(host).values())}
        for label, fam in sorted(named.items()):  # by the name the host's own ABI has
            cells = [", ".join(n for n in fam if n in table(abi)) or "—" for abi in host.abis]
            lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("## The i386 multiplexers\n")
    lines.append(
        "On x86 (i386), `socketcall(call, args)` (102) runs the socket calls and `ipc(call, ...)` (117) the "
        "System V IPC calls; `call` is one of the `SYS_*` numbers of the kernel's `include/uapi/linux/net.h` "
        "and the ipc numbers of `include/uapi/linux/ipc.h` (for `ipc`, the low 16 bits; a version may sit "
        "above them). A deny of a call's family refuses that `call` on x86 (a condition on the first "
        "argument); a deny of `socketcall` or `ipc` refuses it outright. The family is the one of an "
        "x86_64 host.\n"
    )
    lines.append("| multiplexer | call | constant | runs | family on x86_64 hosts |\n|---|---|---|---|---|")
    for s in subcalls(Arch.X86_64):
        names = ", ".join(s.family) or "—"
        lines.append(f"| `{s.multiplexer}` | {s.call} | `{s.constant}` | `{s.name}` | {names} |")
    lines.append("")
    return "\n".join(lines)


def cli() -> str:
    from seccompose.cli import COMMANDS, build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal; fix it for stable output
    lines = [_banner("the parser in seccompose.cli"), "# Command line\n"]
    lines.append(
        "Every command prints to stdout (`-o FILE` writes a file instead), reports errors on stderr with "
        "exit code 2 and no traceback, and shows real examples in `--help`. "
        "`seccompose completion bash|zsh|fish` prints a shell completion script.\n"
    )
    parser = build_parser()
    lines += ["```text", parser.format_help().rstrip(), "```\n"]
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")  # noqa: SLF001
    for name in COMMANDS:
        if name not in sub.choices:  # type: ignore[operator]
            continue
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            sub.choices[name].print_help()  # type: ignore[index]
        lines += [f"## `seccompose {name}`\n", "```text", text.getvalue().rstrip(), "```\n"]
    return "\n".join(lines)


def _schema_type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_schema_type(p, defs) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_schema_type(prop.get('items', {}), defs)}"
    if kind == "object":
        extra = prop.get("additionalProperties")
        return "mapping of string to string" if isinstance(extra, dict) and extra.get("type") else "mapping"
    return "`null`" if kind == "null" else str(kind)


def _yaml(doc: Any) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100).rstrip()


def _model_section(name: str, schema: dict[str, Any], defs: dict[str, Any], key: str | None) -> list[str]:
    lines = [f"## {name} {{#{name.lower()}}}\n"]
    if schema.get("description"):
        lines.append(_cell(schema["description"]) + "\n")
    lines.append("| key | type | default | meaning |\n|---|---|---|---|")
    required = set(schema.get("required", ()))
    for prop_name, prop in schema["properties"].items():
        # A default_factory leaves no default in the schema.
        fallback: dict[str, Any] | None = {} if prop.get("type") == "object" else None
        default = "required" if prop_name in required else f"`{json.dumps(prop.get('default', fallback))}`"
        lines.append(
            f"| `{prop_name}` | {_schema_type(prop, defs)} | {default} | {_cell(prop.get('description', ''))} |"
        )
    lines.append("")
    examples: list[Any] = []
    for prop_name, prop in schema["properties"].items():
        examples += [{prop_name: e} for e in prop.get("examples", [])]
        if prop.get("enum") and key is None:
            examples += [{prop_name: v} for v in prop["enum"] if v != prop.get("default")]
    if key is not None:
        examples += [{key: [e]} for e in schema.get("examples", [])]
    if examples:
        lines.append("Examples (each a whole policy file; the tests load every one):\n")
        for doc in examples:
            lines += ["```yaml", _yaml(doc), "```\n"]
    return lines


def policy() -> str:
    from seccompose._policy_schema import PolicyDocument

    schema = PolicyDocument.model_json_schema()
    defs = schema.get("$defs", {})
    lines = [_banner("seccompose._policy_schema.PolicyDocument"), "# Policy file\n"]
    lines.append(
        "A policy (YAML or JSON) says what every container gets when it starts: `seccompose compose --policy "
        "FILE --image IMG` prints it, `seccompose-runtime` and `seccompose proxy` apply it. Unknown keys are "
        "errors naming the key; relative template paths are relative to the policy file. The whole example "
        "from the how-tos:\n"
    )
    lines += ["```yaml", (ROOT / "docs" / "examples" / "policy.yaml").read_text().rstrip(), "```\n"]
    lines += _model_section("Policy", {**schema, "description": ""}, defs, None)
    where = {"TemplateBinding": "templates", "RuleModel": "rules", "ScopeModel": None}
    for name in ("TemplateBinding", "RuleModel", "ScopeModel"):
        key = where[name]
        section = _model_section(name, defs[name], defs, key)
        if name == "ScopeModel":
            extra = [{"rules": [{"name": "scoped", "deny": ["ptrace"], "scope": e}]} for e in defs[name]["examples"]]
            section += ["Example:\n"] + [line for doc in extra for line in ("```yaml", _yaml(doc), "```\n")]
        lines += section
    # The seccomp agent's settings: a mapping, so its examples are whole policies written out here.
    lines += _model_section("ObserveModel", {**defs["ObserveModel"], "examples": []}, defs, "")
    example = {"mode": "observe", "observe": defs["ObserveModel"]["examples"][0]}
    lines += ["Example:\n", "```yaml", _yaml(example), "```\n"]
    return "\n".join(lines)


PAGES = {
    "lint-rules.md": lint_rules,
    "templates.md": templates,
    "capabilities.md": capabilities,
    "families.md": families,
    "cli.md": cli,
    "policy.md": policy,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 on drift instead of writing")
    args = parser.parse_args()
    pages = {OUT / name: make().rstrip() + "\n" for name, make in PAGES.items()}
    return write_or_check(pages, check=args.check, command="python tools/gen_docs.py")


if __name__ == "__main__":
    sys.exit(main())
