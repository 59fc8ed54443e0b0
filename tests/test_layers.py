"""The architecture, checked: every import of every module (function-local ones included) forms a
graph with no cycle, and each layer imports only from itself and the layers below it:

    ooxml  ←  model (and the helpers beside it: i18n, schema, settings, errors, procs, forked, vba)
           ←  ops  ←  workbook  ←  commands  ←  front ends (cli, addin, api, lite, build tools)

Imports under `if TYPE_CHECKING:` are left out: they are never executed, they only name a type.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xlcrm"

LAYERS = ["ooxml", "model", "ops", "workbook", "commands", "front"]
# Module (or package) → layer; the longest matching prefix wins.
PLACES = {
    "xlcrm.ooxml": "ooxml",
    "xlcrm.model": "model",
    "xlcrm.i18n": "model",
    "xlcrm.schema": "model",
    "xlcrm.settings": "model",
    "xlcrm.errors": "model",
    "xlcrm.procs": "model",
    "xlcrm.forked": "model",  # pure work in a forked child: imports nothing of xlcrm
    "xlcrm.version": "model",
    "xlcrm.vba": "model",
    "xlcrm.ops": "ops",
    "xlcrm.workbook": "workbook",
    "xlcrm.store": "workbook",  # the team store: I/O like the workbook layer, below commands
    "xlcrm.template": "workbook",  # builds template workbooks with the writer's formats
    "xlcrm.template_values": "workbook",
    "xlcrm.template_validation": "workbook",
    "xlcrm.howto": "workbook",  # the template's How-to sheet text
    "xlcrm.samples": "workbook",
    "xlcrm.samples_service": "workbook",
    "xlcrm.samples_base": "workbook",
    "xlcrm.samples_customers": "workbook",
    "xlcrm.samples_history": "workbook",
    "xlcrm.samples_vocab": "workbook",
    "xlcrm.export_file": "workbook",
    "xlcrm.commands": "commands",
    "xlcrm": "front",  # the package itself (re-exports the API), cli, addin, api, doctor, add-in build
    "lite": "front",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "lite").glob("*.py")]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside `if TYPE_CHECKING:` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    # `from pkg import sub` imports the submodule; `from pkg import name` imports pkg itself.
    return submodules + ([target] if len(submodules) < len(node.names) else [])


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"))
        skipped = _type_checking_only(tree)
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped:
                for target in _targets(module, path.name == "__init__.py", node):
                    while target and target not in MODULES:  # `xlcrm.x.name` → the module xlcrm.x
                        target = target.rpartition(".")[0]
                    if target and target != module:
                        deps.add(target)
        graph[module] = deps
    return graph


GRAPH = _graph()


def _layer(module: str) -> str:
    best = max((p for p in PLACES if module == p or module.startswith(p + ".")), key=len)
    return PLACES[best]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_print_the_layer_graph() -> None:
    """The graph between layers, as `pytest -s` shows it (module counts and edges per layer pair)."""
    between: dict[tuple[str, str], int] = {}
    for module, deps in GRAPH.items():
        for dep in deps:
            key = (_layer(module), _layer(dep))
            between[key] = between.get(key, 0) + 1
    print()
    for layer in LAYERS:
        members = sorted(m for m in GRAPH if _layer(m) == layer)
        uses = ", ".join(f"{to} ({n})" for (frm, to), n in sorted(between.items()) if frm == layer and to != layer)
        print(f"{layer:9} {len(members):3} modules → {uses or '—'}")
    assert set(GRAPH) >= {"xlcrm.ooxml.package", "xlcrm.model.book", "xlcrm.workbook.reader", "xlcrm.cli"}


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_layers_import_only_downwards() -> None:
    wrong = [
        f"{module} ({_layer(module)}) imports {dep} ({_layer(dep)})"
        for module, deps in sorted(GRAPH.items())
        for dep in sorted(deps)
        if LAYERS.index(_layer(dep)) > LAYERS.index(_layer(module))
    ]
    assert wrong == []


def test_no_module_imports_another_modules_private_names() -> None:
    wrong = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                wrong += [f"{module}: from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert sorted(wrong) == []


def test_no_module_reaches_into_another_modules_private_names() -> None:
    """`normalize._setting_index()` on an imported module counts as much as importing the name."""
    wrong = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"))
        imported_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:  # `from pkg import module` binds a module
                    one = ast.ImportFrom(module=node.module, names=[alias], level=node.level)
                    if any(t.endswith("." + alias.name) for t in _targets(module, path.name == "__init__.py", one)):
                        imported_modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                imported_modules.update(a.asname for a in node.names if a.asname and a.name in MODULES)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in imported_modules and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{module}: {node.value.id}.{node.attr}")
    assert wrong == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
