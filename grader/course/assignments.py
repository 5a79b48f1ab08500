"""Load `reference/<name>/`: find the folder, import its checks.py, validate its checks."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from grader.assignment import CHECKS_FILE, Assignment, validate_probes
from grader.course.locate import assignment_folders, reference_roots
from grader.errors import AssignmentError

__all__ = ["find_reference_root", "list_assignments", "load_assignment"]


def find_reference_root(explicit: Path | None = None) -> Path:
    """Where the reference folders live: an explicit path, $GRADER_REFERENCE, the course
    folder's reference/ (--course, $GRADER_COURSE, or found above the current folder), or the
    handouts shipped with grader (see grader.course.locate)."""
    for candidate in reference_roots(reference=explicit):
        if candidate.is_dir():
            return candidate
    raise AssignmentError(
        "no reference/ folder found: run inside the course folder, pass --course DIR or set GRADER_COURSE"
    )


def list_assignments(root: Path) -> list[str]:
    """The assignments under `root`: its folders that hold a checks.py."""
    return sorted(p.name for p in root.iterdir() if (p / CHECKS_FILE).is_file())


def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """Load `reference/<name>/checks.py` (trusted code) and validate its checks.

    Raises `AssignmentError` naming the file when the assignment is unknown, the file
    defines no `assignment`, or a check names a probe its probe file does not define.
    """
    folders = assignment_folders(reference=root)  # the course's, then the packaged handouts
    if name not in folders:
        raise AssignmentError.unknown(name, sorted(folders))
    folder = folders[name]
    checks_path = folder / CHECKS_FILE
    module = _import_file(checks_path, f"_grader_assignment_{name}")
    assignment = getattr(module, "assignment", None)
    if not isinstance(assignment, Assignment):
        raise AssignmentError.in_file(checks_path, "defines no `assignment = Assignment(...)`")
    assignment = replace(assignment, folder=folder)
    validate_probes(assignment)
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
