"""The package structure holds: the SDK stays light, layers do not import in circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import networkx as nx


def test_client_import_loads_neither_sqlalchemy_nor_torch():
    code = ("import memos.client, sys; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'torch')]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("api", "memos", "memcube", "activation_cache", "storage")  # top to bottom


def module_files() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported_names(tree: ast.AST) -> Iterator[str]:
    """Every absolute import, at the top or inside a function; annotation-only imports (under
    ``if TYPE_CHECKING``) are not dependencies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (name for child in node.orelse for name in imported_names(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from imported_names(node)


def import_graph() -> nx.DiGraph:
    """Module → modules it imports (a submodule's import of its own package is left out:
    Python imports the package first anyway)."""
    modules = module_files()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in imported_names(ast.parse(path.read_text())):
            if target in modules and target != name and not name.startswith(target + "."):
                graph.add_edge(name, target)
    return graph


def test_no_import_cycles():
    assert list(nx.simple_cycles(import_graph())) == []


def test_the_service_and_the_cache_default_to_one_eviction_policy():
    from activation_cache import CacheConfig
    from memos.settings import Settings

    assert Settings().kv_policy == CacheConfig().policy


# Classes whose job is a table's queries (besides storage/ itself).
STORES = {"memcube.cube_store", "memcube.item_store", "memcube.linker", "memcube.archive",
          "memcube.archive_writer", "memcube.retrieval_log", "memcube.adapter_records",
          "memos.activation.kv_records", "memos.scheduler.jobs", "memos.sessions",
          "memos.auth"}
# Edges that name SQLAlchemy's exceptions to translate them, and issue no SQL.
TRANSLATE_ONLY = {"api.errors", "api.console.route"}
# SQL that still runs outside a store; to move into the stores (the list only shrinks).
SQL_TO_MOVE: set[str] = set()


def modules_importing_sqlalchemy() -> set[str]:
    return {name for name, path in module_files().items()
            if not name.startswith("storage.") and any(
                target.split(".")[0] == "sqlalchemy"
                for target in imported_names(ast.parse(path.read_text())))}


def test_no_new_module_outside_storage_and_the_stores_issues_sql():
    found = modules_importing_sqlalchemy()
    assert found - STORES - TRANSLATE_ONLY - SQL_TO_MOVE == set()
    assert SQL_TO_MOVE <= found, "moved into a store: take it off SQL_TO_MOVE"


def test_imports_point_down_the_layers():
    def layer(module: str) -> int:
        if module.startswith("memos.cli"):  # an edge beside api/: `serve` starts the server
            return 0
        return LAYERS.index(module.split(".")[0])

    upward = [(a, b) for a, b in import_graph().edges if layer(b) < layer(a)]
    assert upward == []


def test_no_function_takes_an_untyped_kernel():
    untyped = [f"{name}:{node.lineno} {node.name}"
               for name, path in module_files().items()
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
               for arg in node.args.args + node.args.kwonlyargs
               if arg.arg == "mos" and arg.annotation is None]
    assert untyped == []


def test_chat_pipeline_takes_collaborators_and_one_options_object():
    """Built from narrow parts, never the kernel; options travel typed, never as **kwargs."""
    tree = ast.parse((ROOT / "memos" / "chat.py").read_text())
    pipeline = next(node for node in tree.body
                    if isinstance(node, ast.ClassDef) and node.name == "ChatPipeline")
    methods = [node for node in pipeline.body if isinstance(node, ast.FunctionDef)]
    init = next(method for method in methods if method.name == "__init__")
    assert {arg.arg for arg in init.args.kwonlyargs} >= {"cubes", "search", "decoder"}
    assert not {"mos", "kernel"} & {arg.arg for arg in init.args.args + init.args.kwonlyargs}
    assert [method.name for method in methods if method.args.kwarg] == []
