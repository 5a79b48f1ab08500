"""Load `reference/<name>/`: find the folder, import its checks.py, validate its checks."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from grader.assignment import CHECKS_FILE, HIDDEN_PROBES, PUBLIC_PROBES, Assignment
from grader.errors import AssignmentError

__all__ = ["find_reference_root", "list_assignments", "load_assignment", "probe_functions"]


def find_reference_root(explicit: Path | None = None) -> Path:
    """Where the reference folders live: an explicit path, $GRADER_REFERENCE, ./reference,
    or the `reference/` beside the installed package (a source checkout)."""
    candidates = [explicit] if explicit else []
    if os.environ.get("GRADER_REFERENCE"):
        candidates.append(Path(os.environ["GRADER_REFERENCE"]))
    candidates += [Path.cwd() / "reference", Path(__file__).resolve().parents[2] / "reference"]
    for candidate in candidates:
        if candidate is not None and candidate.is_dir():
            return candidate.resolve()
    raise AssignmentError("no reference/ folder found: run inside the course repository, pass --reference DIR or set GRADER_REFERENCE")


def list_assignments(root: Path) -> list[str]:
    """The assignments under `root`: its folders that hold a checks.py."""
    return sorted(p.name for p in root.iterdir() if (p / CHECKS_FILE).is_file())


def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """Load `reference/<name>/checks.py` (trusted code) and validate its checks.

    Raises `AssignmentError` naming the file when the assignment is unknown, the file
    defines no `assignment`, or a check names a probe its probe file does not define.
    """
    base = find_reference_root(root)
    folder = base / name
    checks_path = folder / CHECKS_FILE
    if not checks_path.is_file():
        raise AssignmentError.unknown(name, list_assignments(base))
    module = _import_file(checks_path, f"_grader_assignment_{name}")
    assignment = getattr(module, "assignment", None)
    if not isinstance(assignment, Assignment):
        raise AssignmentError.in_file(checks_path, "defines no `assignment = Assignment(...)`")
    assignment = replace(assignment, folder=folder)
    _validate(assignment)
    return assignment


def _import_file(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise AssignmentError.in_file(path, "cannot be imported")
    module = importlib.util.module_from_spec(spec)
    # checks.py may import the assignment's own helpers (data.py) next to it
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise AssignmentError.in_file(path, f"failed to load: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(path.parent))
    return module


def probe_functions(path: Path) -> set[str]:
    """Top-level function names of a probe file, read without importing it."""
    if not path.is_file():
        return set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _validate(assignment: Assignment) -> None:
    names = [c.name for c in assignment.checks]
    if len(names) != len(set(names)):
        raise AssignmentError.in_file(assignment.folder / CHECKS_FILE, "two checks share a name")
    defined = {f: probe_functions(assignment.folder / f) for f in (PUBLIC_PROBES, HIDDEN_PROBES)}
    for c in assignment.checks:
        if c.probe_name not in defined[c.probe_file]:
            raise AssignmentError.in_file(assignment.folder / c.probe_file, f"defines no probe {c.probe_name!r} for check {c.name!r}")
