"""The package layout: which stage may import which, read from the source with `ast`.

The arrows point one way (intake -> sandbox -> judge -> outputs, the course runner above
them); the worker, which runs beside student code, imports nothing trusted but the wire
format; no two modules import each other in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grader

PACKAGE = Path(grader.__file__).parent
# What the sandboxed worker may import from the grader (probe files import grader.probing).
WORKER_MAY_IMPORT = {"grader.sandbox.wire", "grader.probing"}
BELOW_THE_COURSE = ("grader.intake", "grader.sandbox", "grader.judge", "grader.outputs")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _target(module: str, name: str | None) -> str:
    """`from module import name` imports the submodule when there is one, else `module`."""
    candidate = f"{module}.{name}" if name else module
    return candidate if candidate in MODULES else module


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Grader modules `path` imports; with `top_level_only`, those imported when it loads
    (module body and `if TYPE_CHECKING:` blocks, not imports inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _top_level(tree.body) if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "grader"}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "grader"
        ):
            found |= {_target(node.module, a.name) for a in node.names}
    return found


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    statements: list[ast.stmt] = []
    for node in body:
        statements.append(node)
        if isinstance(node, (ast.If, ast.Try)):  # `if TYPE_CHECKING:` counts: a cycle hidden there is still a cycle
            for block in (node.body, node.orelse, *(h.body for h in getattr(node, "handlers", []))):
                statements += _top_level(block)
    return statements


def test_the_worker_imports_nothing_trusted_but_the_wire_format() -> None:
    for name, path in MODULES.items():
        if name.startswith("grader.worker"):
            outside = {m for m in _imports(path, top_level_only=False) if not m.startswith("grader.worker")}
            assert outside <= WORKER_MAY_IMPORT, f"{name} imports {sorted(outside - WORKER_MAY_IMPORT)}"


def test_packages_the_worker_passes_through_import_nothing() -> None:
    # importing grader.sandbox.wire runs grader/__init__.py and grader/sandbox/__init__.py first
    for package in ("grader.sandbox", "grader.worker"):
        assert _imports(MODULES[package], top_level_only=False) == set(), f"{package}/__init__.py must stay import-free"
    assert _imports(MODULES["grader"], top_level_only=True) == set(), "grader/__init__.py loads its names lazily"


def test_the_stages_never_import_the_course_runner() -> None:
    for name, path in MODULES.items():
        if name.startswith(BELOW_THE_COURSE):
            upward = {m for m in _imports(path, top_level_only=False) if m.startswith("grader.course")}
            assert not upward, f"{name} imports {sorted(upward)}"


def test_no_import_cycles() -> None:
    graph = {name: _imports(path, top_level_only=True) & MODULES.keys() for name, path in MODULES.items()}
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(name) :], name]))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*stack, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_exported_members() -> None:
    assert grader.__all__ == [
        "Assignment",
        "Check",
        "CheckResult",
        "GradeOptions",
        "GraderError",
        "Limits",
        "SubmissionResult",
        "accuracy_at_least",
        "all_of",
        "at_least",
        "at_most",
        "check",
        "decreases",
        "grade",
        "gradients_agree",
        "is_finite",
        "matches_reference",
        "rows_sum_to",
        "self_check",
    ]
    for name in grader.__all__:
        assert getattr(grader, name).__module__.startswith("grader."), name


LONG_FOR_NOW: set[str] = set()  # every module is short now; add none without a reason


def test_modules_stay_short() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if name not in LONG_FOR_NOW and (n := len(path.read_text(encoding="utf-8").splitlines())) > 420
    }
    assert not long, f"split these modules: {long}"
