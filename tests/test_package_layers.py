"""The package shows its pipeline: one folder per stage, each importing only from the stages
below it, and no two modules importing each other in any form (at module level, inside a
function, or only for typing)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "smtp_gitops"

# Bottom to top. Of the modules directly under the package, `exit_codes` and `version` are
# leaves every stage may use; the library's entry points (`api`, `environment`, `migrate`,
# `scaffold`) build on the stages and serve the commands; the package itself, `__main__` and the
# `receiver` launcher are on top.
STAGES = ("settings", "lint", "render", ("plan", "deploy", "probe"), "commands")
LEAVES = {"exit_codes", "version"}
ON_TOP = {"__main__", "receiver"}
MAX_TOP_LEVEL_MODULES = 10


def _rank(module: str) -> float:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ON_TOP:
        return len(STAGES)
    if parts[1] in LEAVES:
        return -1
    for rank, stage in enumerate(STAGES):
        if parts[1] in (stage if isinstance(stage, tuple) else (stage,)):
            return rank
    return len(STAGES) - 1.5  # an entry point: above every stage but the commands


def _module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module of the package that ``path`` imports, anywhere in the file."""
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name.startswith("smtp_gitops"))
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_of(p): p for p in PACKAGE.rglob("*.py") if "_compiled" not in p.parts}
    return {
        module: {name for name in _imports(path) if name in paths and name != module}
        for module, path in paths.items()
    }


def test_no_two_modules_import_each_other_in_any_form() -> None:
    graph = _graph()
    loops: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        for target in graph[module]:
            if target in trail:
                loops.append([*trail[trail.index(target) :], target])
            elif target not in done:
                visit(target, [*trail, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert loops == []


def test_each_stage_imports_only_from_the_stages_below_it() -> None:
    upward = []
    for module, targets in _graph().items():
        rank = _rank(module)
        for target in targets:
            if _rank(target) > rank and module.split(".")[:2] != target.split(".")[:2]:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_few_modules_remain_directly_under_the_package() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert len(top) <= MAX_TOP_LEVEL_MODULES, sorted(top)
    assert top >= LEAVES
