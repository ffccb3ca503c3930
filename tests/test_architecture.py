"""The package layout's rules, read from the sources with ``ast`` (no module is imported).

Rules (issue 16):

* **Layers.** Dependencies run ``api -> retriever -> index``, with ``docqa`` (settings,
  wiring, CLI) on top: ``index`` imports none of ``retriever``/``api``/``docqa``;
  ``retriever`` imports neither ``api`` nor ``docqa``; ``api`` imports nothing from
  ``docqa`` except ``docqa.settings``, because the app reads the one ``Settings`` object
  at its edge (``create_app(settings)``, the dependencies); loading models and stores from
  it (``docqa.wiring``) stays on top, so the API receives them ready. Every import counts
  here, also those inside functions and under ``TYPE_CHECKING``: a lazy import is still
  a dependency.
* **No cycles** between modules, counting the imports that run (``TYPE_CHECKING`` ones
  are annotations only and are left out).
* **Light package roots.** Importing any module of a package first runs its
  ``__init__.py``, so a top-level ``__init__.py`` that re-exports the writer makes
  ``from index.errors import ...`` load faiss. Importing ``index``, ``retriever``,
  ``api`` or ``docqa`` alone loads none of the heavy engines below.
* **Settings import no implementation**: ``docqa/settings.py`` imports nothing from
  ``index``/``retriever``/``api`` (anywhere in the file), and loading it loads no engine.
* **index/ by concern**: at most 5 modules directly under ``index/`` besides
  ``__init__.py``; the rest live in sub-packages.
* **Lab code stays out of the wheel**: no training, SQuAD or ranking-metric module in
  the installed packages (they live in ``scripts/``).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest layer first; a module may import its own layer and the ones below it.
LAYERS = ("index", "retriever", "api", "docqa")
# The one upward import allowed (see the module docstring).
ALLOWED_UPWARD = {("api", "docqa.settings")}
HEAVY = ("faiss", "torch", "onnxruntime", "sentence_transformers", "transformers", "pymilvus")
SETTINGS = "docqa.settings"
MAX_INDEX_MODULES = 5
LAB_MODULES = ("train_span", "squad_data", "squad_metrics")
LAB_PATHS = ("retriever.metrics",)  # hand-rolled ranking metrics: evaluation only


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a project module or an external top name."""

    source: str  # the importing module
    target: str  # a project module ("index.errors") or an external top-level name ("faiss")
    internal: bool
    line: int
    at_import_time: bool  # module level (or class body), not inside a function
    type_checking: bool  # under ``if TYPE_CHECKING:``

    def where(self) -> str:
        return f"{_file_of(self.source)}:{self.line} imports {self.target}"


@cache
def _modules() -> dict[str, Path]:
    """Every project module name -> its file."""
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _file_of(module: str) -> str:
    return _modules()[module].relative_to(ROOT).as_posix()


def _is_package(module: str) -> bool:
    return _modules()[module].name == "__init__.py"


def _resolve(dotted: str) -> str | None:
    """The most specific project module that ``dotted`` names, or None if external."""
    modules = _modules()
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module.split(".") if _is_package(module) else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        # ``from pkg import name``: the submodule pkg.name if there is one, else pkg itself.
        sub = f"{base}.{alias.name}"
        yield sub if sub in _modules() else base


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(module: str, node: ast.AST, in_function: bool, type_checking: bool) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        yield from _visit(module, child, in_function, type_checking)


def _visit(module: str, node: ast.AST, in_function: bool, type_checking: bool) -> Iterator[Import]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        for target in _targets(module, node):
            resolved = _resolve(target)
            name = resolved or target.split(".")[0]
            internal = resolved is not None
            yield Import(module, name, internal, node.lineno, not in_function, type_checking)
    elif isinstance(node, ast.If) and _is_type_checking(node.test):
        for statement in node.body:
            yield from _visit(module, statement, in_function, True)
        for statement in node.orelse:
            yield from _visit(module, statement, in_function, type_checking)
    else:
        function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(module, node, in_function or function, type_checking)


@cache
def _imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.extend(_walk(module, tree, in_function=False, type_checking=False))
    return tuple(dict.fromkeys(found))  # ``from m import a, b``: one import of m


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def _parents(module: str) -> list[str]:
    """The packages whose ``__init__.py`` runs before ``module`` (importing a.b.c runs a, a.b)."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _load_chains(start: str) -> dict[str, list[Import]]:
    """Everything importing ``start`` loads (project modules and external top names), each
    with the chain of imports that loads it."""
    by_source: dict[str, list[Import]] = {}
    for imp in _imports():
        if imp.at_import_time and not imp.type_checking:
            by_source.setdefault(imp.source, []).append(imp)
    queue = [*_parents(start), start]
    chains: dict[str, list[Import]] = {module: [] for module in queue}
    while queue:
        module = queue.pop(0)
        for imp in by_source.get(module, []):
            targets = [imp.target]
            if imp.internal:
                targets = [*_parents(imp.target), imp.target]
            for target in targets:
                if target not in chains:
                    chains[target] = [*chains[module], imp]
                    if imp.internal:
                        queue.append(target)
    return chains


def _chain_text(chain: list[Import]) -> str:
    return "\n      ".join(imp.where() for imp in chain)


def test_no_upward_import() -> None:
    wrong = []
    for imp in _imports():
        if not imp.internal or _layer(imp.target) <= _layer(imp.source):
            continue
        if (imp.source.split(".")[0], imp.target) in ALLOWED_UPWARD:
            continue
        lower, upper = imp.source.split(".")[0], imp.target.split(".")[0]
        wrong.append(f"  {imp.where()}  ({lower} must not import {upper})")
    if wrong:
        pytest.fail(
            "upward imports (dependencies run api -> retriever -> index, docqa on top; api may "
            "import docqa.settings only):\n" + "\n".join(sorted(wrong)),
            pytrace=False,
        )


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), in a stable order."""
    graph: dict[str, set[str]] = {module: set() for module in _modules()}
    for imp in _imports():
        if imp.internal and not imp.type_checking and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def test_no_import_cycle() -> None:
    reports = []
    for component in _cycles():
        members = set(component)
        edges = [
            f"    {imp.where()}"
            for imp in _imports()
            if imp.internal
            and not imp.type_checking
            and imp.source in members
            and imp.target in members
            and imp.source != imp.target
        ]
        reports.append(f"  cycle among {', '.join(component)}:\n" + "\n".join(sorted(edges)))
    if reports:
        pytest.fail("import cycles:\n" + "\n".join(reports), pytrace=False)


def test_package_roots_load_no_engine() -> None:
    wrong = []
    for package in LAYERS:
        chains = _load_chains(package)
        for heavy in HEAVY:
            if heavy in chains:
                wrong.append(
                    f"  import {package} loads {heavy}:\n      {_chain_text(chains[heavy])}"
                )
    if wrong:
        pytest.fail(
            "a package's __init__.py runs before any of its modules, so it must stay light:\n"
            + "\n".join(wrong),
            pytrace=False,
        )


def test_settings_import_no_implementation() -> None:
    wrong = [
        f"  {imp.where()}"
        for imp in _imports()
        if imp.source == SETTINGS and imp.internal and imp.target.split(".")[0] != "docqa"
    ]
    chains = _load_chains(SETTINGS)
    wrong += [
        f"  import {SETTINGS} loads {heavy}:\n      {_chain_text(chains[heavy])}"
        for heavy in HEAVY
        if heavy in chains
    ]
    if wrong:
        pytest.fail(
            "docqa/settings.py must import no implementation (index, retriever, api, engines):\n"
            + "\n".join(wrong),
            pytrace=False,
        )


def test_index_top_level_is_small() -> None:
    modules = sorted(p.name for p in (ROOT / "index").glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= MAX_INDEX_MODULES, (
        f"{len(modules)} modules directly under index/ (at most {MAX_INDEX_MODULES} besides "
        f"__init__.py; put the rest in the sub-package of their concern): {', '.join(modules)}"
    )


def test_wheel_leaves_lab_code_out() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {pattern.split(".")[0].rstrip("*") for pattern in include} <= set(LAYERS), include
    lab = [
        _file_of(module)
        for module in _modules()
        if module.rsplit(".", 1)[-1] in LAB_MODULES or module in LAB_PATHS
    ]
    if lab:
        pytest.fail(
            "lab code (training, SQuAD readers, ranking metrics) installs with the product; "
            f"move it to scripts/: {', '.join(sorted(lab))}",
            pytrace=False,
        )
