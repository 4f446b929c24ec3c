"""The house rules of imports, read from the source: no import cycle between the project's modules (imports
inside functions count too: they only postpone a cycle), and packages depend on each other in one direction,
`models` ← `embeddings` ← `search` ← `recommender`, `models` ← `translation`, and `api` on top of all."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "embeddings", "search", "recommender", "translation", "api")
# What each package may import from the project, besides itself.
ALLOWED = {
    "models": set(),
    "embeddings": {"models"},
    "search": {"models", "embeddings"},
    "recommender": {"models", "embeddings", "search"},
    "translation": {"models"},
    "api": {"models", "embeddings", "search", "recommender", "translation"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imported(path: Path, name: str, modules: set[str]) -> set[str]:
    """The project modules that the file imports (the deepest known module of each dotted name)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> nx.DiGraph:
    modules = project_modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in imported(path, name, set(modules)))
    return graph


def test_no_module_imports_itself_through_others():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join([*cycle, cycle[0]]) for cycle in cycles)


def test_packages_depend_on_each_other_in_one_direction_only():
    against = sorted(
        f"{source} imports {target}"
        for source, target in import_graph().edges
        if (a := source.split(".")[0]) != (b := target.split(".")[0]) and b not in ALLOWED[a]
    )
    assert not against, "imports against the dependency direction:\n" + "\n".join(against)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from search.normalise import standardised\n", {"search.normalise"}),
        ("from search import CourseSearcher\n", {"search"}),  # the package: its __init__ counts as a module
        ("def late():\n    import recommender.gaps\n", {"recommender.gaps"}),
        ("from .fusion import reciprocal_rank_fusion\n", {"search.fusion"}),
        ("import numpy\n", set()),
    ],
)
def test_the_graph_sees_every_kind_of_import(tmp_path: Path, source: str, expected: set[str]):
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert imported(path, "search.probe", set(project_modules())) == expected


def test_a_cycle_through_function_level_imports_is_found():
    graph = nx.DiGraph([("translation.config", "translation.ct2"), ("translation.ct2", "translation.config")])
    assert list(nx.simple_cycles(graph))
