"""How an assignment is written: `Check`, `Assignment`, and loading `reference/<name>/`.

An assignment folder holds the reference solution and three small files:

    checks.py          trusted: `assignment = Assignment(...)` with its table of `Check`s
    probes.py          runs in the sandbox: one function per public check, `probe(nn, ctx)`
    hidden_probes.py   runs in the sandbox: the probes of hidden checks

A probe is a function of the submitted namespace `nn` (the student's module, or a
notebook's definitions) and a context (`ctx.seed`, `ctx.data_dir`); it returns an array,
a number, or a dict of them. It never sees an expected value: the `expect=` of each
`Check` judges what it returned, in the grader's own process. Keeping probes in their
own files is what keeps thresholds and expectations out of the sandbox.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.errors import AssignmentError
from grader.expect import Expectation

__all__ = [
    "Assignment",
    "Check",
    "DataPreparer",
    "find_reference_root",
    "list_assignments",
    "load_assignment",
]

PUBLIC_PROBES = "probes.py"
HIDDEN_PROBES = "hidden_probes.py"
CHECKS_FILE = "checks.py"
# Files of an assignment folder that belong to the harness, never to a submission.
HARNESS_FILES = frozenset({CHECKS_FILE, PUBLIC_PROBES, HIDDEN_PROBES, "data.py"})

# Writes the data files a worker may read into a folder and returns what must stay
# outside the sandbox (hidden labels), for a given batch seed.
DataPreparer = Callable[[Path, int], Mapping[str, np.ndarray]]


@dataclass(frozen=True, slots=True)
class Check:
    """One graded check: a probe (run in the sandbox) and an expectation (run here).

    `probe` names the probe function; it defaults to the check's name and is looked up
    in probes.py for a public check, hidden_probes.py for a hidden one.
    """

    name: str
    points: float
    expect: Expectation
    public: bool = True
    timeout: float = 20.0
    description: str = ""
    probe: str = ""

    @property
    def probe_name(self) -> str:
        return self.probe or self.name

    @property
    def probe_file(self) -> str:
        return PUBLIC_PROBES if self.public else HIDDEN_PROBES


@dataclass(frozen=True, slots=True)
class Assignment:
    """An assignment: what is submitted, which names are graded, and the checks.

    `entry` is the file name graded in a submission (`neural_net.py`, or a notebook
    name such as `fcc_sigmoid.ipynb`); `names` are the definitions the probes use.
    """

    name: str
    title: str
    entry: str
    names: tuple[str, ...]
    checks: tuple[Check, ...]
    prepare_data: DataPreparer | None = None
    folder: Path = field(default=Path("."))

    @property
    def public_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.public)

    @property
    def entry_is_notebook(self) -> bool:
        return self.entry.endswith(".ipynb")


def find_reference_root(explicit: Path | None = None) -> Path:
    """Where the reference folders live: an explicit path, $GRADER_REFERENCE, the course
    folder's reference/ (--course, $GRADER_COURSE, or found above the current folder), or the
    handouts shipped with grader (see grader.course.locate)."""
    from grader.course.locate import reference_roots

    for candidate in reference_roots(reference=explicit):
        if candidate.is_dir():
            return candidate
    raise AssignmentError("no reference/ folder found: run inside the course folder, pass --course DIR or set GRADER_COURSE")


def list_assignments(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / CHECKS_FILE).is_file())


def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """Load `reference/<name>/checks.py` (trusted code) and validate its checks.

    Raises `AssignmentError` naming the file when the assignment is unknown, the file
    defines no `assignment`, or a check names a probe its probe file does not define.
    """
    from grader.course.locate import assignment_folders

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
