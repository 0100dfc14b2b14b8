"""No import cycles among seccompose's modules, and every module imports alone.

The graph counts every import of a seccompose module, at module level and inside functions (a
deferred import that only dodges a cycle at load time still ties the two modules together);
imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted((SRC / "seccompose").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The seccompose modules ``name`` imports anywhere but under ``if TYPE_CHECKING:``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # a submodule imported by name
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    # A package's __init__ is run by importing any of its submodules: that is no edge of the submodule's own.
    return {m for m in found if m in known and m != name and not name.startswith(m + ".")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root, edges in graph.items():
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_deferred_imports_and_skips_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "seccompose"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from seccompose import c\n"
        "def f():\n    from seccompose.b import x\n",
        encoding="utf-8",
    )
    known = {"seccompose.a": pkg / "a.py", "seccompose.b": pkg / "b.py", "seccompose.c": pkg / "c.py"}
    assert _imports("seccompose.a", pkg / "a.py", known) == {"seccompose.b"}


def test_no_import_cycles() -> None:
    known = _modules()
    graph = {name: _imports(name, path, known) for name, path in known.items()}
    cycles = _cycles(graph)
    described = [" <-> ".join(c) + ": " + "; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c) for c in cycles]
    assert not cycles, "\n".join(described)


def test_each_module_imports_alone() -> None:
    """Each module imported first, in a fresh interpreter of its own (no other module loaded it before)."""
    modules = sorted(m for m in _modules() if not m.endswith("__main__"))  # __main__ runs the CLI
    running = {
        m: subprocess.Popen([sys.executable, "-c", f"import {m}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for m in modules
    }
    errors = {m: p.communicate()[1].decode(errors="replace")[-600:] for m, p in running.items()}
    failed = {m: errors[m] for m, p in running.items() if p.returncode != 0}
    assert not failed, failed


def _private_imports(path: Path) -> list[str]:
    """The private names (``_x``) a module imports from other seccompose modules."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seccompose"):
            out += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_") and a.name != "__version__"]
    return out


def test_the_probe_and_cost_use_public_names_of_the_libseccomp_layer() -> None:
    modules = _modules()
    found = {m: _private_imports(modules[m]) for m in ("seccompose._probe", "seccompose.cost")}
    assert found == {"seccompose._probe": [], "seccompose.cost": []}
