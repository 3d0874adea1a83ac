"""The shape of the package: modules stay small, imports do not go round in circles, the root holds
only what every layer uses, no two modules share a name, and every folder says what lives in it."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "infragate"
MAX_LINES = 400
ROOT_MODULES = {
    "__init__",
    "__main__",
    "bdd",
    "cli",
    "collector",
    "errors",
    "quantities",
    "retry",
    "safety",
    "verdicts",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _top_level_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules of the package this module imports when it is imported (not lazily, not for typing)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            # `from package import module` needs the module; the package's __init__ runs first anyway.
            targets |= submodules or {base}
    # Every module's own packages run before it: no edge of its own.
    return {target for target in targets if target in known and not (name + ".").startswith(target + ".")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _top_level_imports(path, name, set(modules)) for name, path in modules.items()}
    # A package imports its own modules to re-export them; a module importing its package's
    # __init__ for that re-export would be the cycle, and is caught like any other.
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_root_holds_only_what_every_layer_uses() -> None:
    assert {path.stem for path in PACKAGE.glob("*.py")} == ROOT_MODULES


def test_no_two_modules_share_a_name() -> None:
    names = Counter(path.stem for path in PACKAGE.rglob("*.py") if path.stem not in ("__init__", "__main__"))
    assert [name for name, count in names.items() if count > 1] == []


def test_every_folder_says_what_lives_in_it() -> None:
    # load/ holds locustfiles, loaded by path by the load engine: data, not a package.
    folders = [p for p in PACKAGE.rglob("*") if p.is_dir() and any(p.glob("*.py")) and p.name != "load"]
    undocumented = []
    for folder in folders:
        init = folder / "__init__.py"
        if not init.exists() or ast.get_docstring(ast.parse(init.read_text())) is None:
            undocumented.append(str(folder.relative_to(PACKAGE)))
    assert undocumented == []
