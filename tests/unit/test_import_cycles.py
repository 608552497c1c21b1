"""No import cycle inside the ``contentops`` package.

A cycle makes the import order decide whether a name exists yet, and hides which module
depends on which. Imports are read from the source (``ast``), not by importing: a module-level
import, a function-local one (often added only to dodge a cycle: it still is one) and a
relative one all count; those under ``if TYPE_CHECKING:`` never run, so they are checked
separately: a type-only loop still ties two modules together, and the package has none either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import contentops

pytestmark = pytest.mark.unit

PACKAGE_ROOT = Path(contentops.__file__).resolve().parent


def module_files(package_root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package rooted at ``package_root``."""
    modules: dict[str, Path] = {}
    for path in sorted(package_root.rglob("*.py")):
        parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, type_checking: bool = False) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth; those in ``if TYPE_CHECKING:`` bodies
    only when ``type_checking``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking_guard(node) and not type_checking:
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, path: Path, known: set[str], *, type_checking: bool = False) -> set[str]:
    """The modules of ``known`` that module ``name`` (at ``path``) imports."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _import_nodes(tree, type_checking=type_checking):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            # ``from package import submodule`` imports the submodule; ``from module import name``
            # only the module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            # ``import a.b.c`` of a name that is not a module of ours: its nearest module is meant
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(package_root: Path, *, type_checking: bool = False) -> dict[str, set[str]]:
    files = module_files(package_root)
    known = set(files)
    return {name: imported_modules(name, path, known, type_checking=type_checking) for name, path in files.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = lowlink[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _describe(cycle: list[str], graph: dict[str, set[str]]) -> str:
    members = set(cycle)
    edges = [f"{source} -> {target}" for source in cycle for target in sorted(graph[source] & members)]
    return "; ".join(edges)


def test_the_contentops_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE_ROOT)
    assert len(graph) > 50  # the whole package was read, not an empty directory
    assert "contentops.hooks.transport" in graph["contentops.hooks.base"]
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(cycle, graph) for cycle in cycles)


def test_not_even_type_only_imports_make_a_cycle() -> None:
    graph = import_graph(PACKAGE_ROOT, type_checking=True)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles through TYPE_CHECKING imports:\n" + "\n".join(
        _describe(cycle, graph) for cycle in cycles
    )


def _write(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root / "pkg"


@pytest.mark.parametrize(
    ("a_source", "cyclic"),
    [
        ("from pkg.b import thing\n", True),
        ("def late():\n    from pkg.b import thing\n    return thing\n", True),  # function-local still counts
        ("from .b import thing\n", True),
        ("import pkg.b.thing\n", True),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import thing\n", False),
        ("import typing\nif typing.TYPE_CHECKING:\n    from pkg.b import thing\nelse:\n    import pkg.c\n", False),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    from pkg import b\n", True),  # the else branch runs
    ],
)
def test_the_cycle_finder_sees_every_import_that_runs(tmp_path: Path, a_source: str, cyclic: bool) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": a_source,
            "pkg/b.py": "from pkg.a import helper\nthing = 1\n",
            "pkg/c.py": "",
        },
    )
    cycles = import_cycles(import_graph(root))
    assert cycles == ([["pkg.a", "pkg.b"]] if cyclic else [])
    assert import_cycles(import_graph(root, type_checking=True)) == [["pkg.a", "pkg.b"]]


def test_the_cycle_finder_follows_longer_loops_and_relative_imports_in_packages(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "from .one import x\n",
            "pkg/sub/one.py": "from ..two import y\nx = 1\n",
            "pkg/two.py": "from pkg.three import z\ny = 2\n",
            "pkg/three.py": "import pkg.sub\nz = 3\n",
        },
    )
    assert import_cycles(import_graph(root)) == [["pkg.sub", "pkg.sub.one", "pkg.three", "pkg.two"]]
