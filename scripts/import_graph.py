"""Print the package's import graph facts: every import cycle (imports inside functions included) and, with
``--layers``, every import that runs against the layer order declared in ``tests/project/test_layers.py``.

Run: ``python scripts/import_graph.py`` (exit 1 when there is a cycle).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "virtual_geotiff"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """``(module, line)`` for every import of a package module in ``path``, at any depth (functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith(PACKAGE):
                continue
            for alias in node.names:  # ``from . import icechunk`` imports a module
                candidate = f"{target}.{alias.name}"
                yield (candidate if _exists(candidate) else target), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    yield alias.name, node.lineno


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


def graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}; a package's face (``__init__``) is a module of its own."""
    edges: dict[str, dict[str, int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        src = module_name(path)
        out = edges.setdefault(src, {})
        for target, line in imports_of(path):
            if target != src and target not in out:
                out[target] = line
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    edges = graph()
    found = cycles(edges)
    for comp in found:
        print("cycle:", " <-> ".join(c.removeprefix(PACKAGE + ".") for c in comp))
        members = set(comp)
        for a in comp:
            for b, line in edges[a].items():
                if b in members:
                    print(f"    {a.removeprefix(PACKAGE + '.')}:{line} imports {b.removeprefix(PACKAGE + '.')}")
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(found)} cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
