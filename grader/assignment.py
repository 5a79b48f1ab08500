"""How an assignment is written: `Check` and `Assignment` (loaded by `grader.course.assignments`).

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.errors import AssignmentError
from grader.judge.expectations import Expectation
from grader.results import ManualPart

__all__ = [
    "CHECKS_FILE", "HARNESS_FILES", "HIDDEN_PROBES", "PUBLIC_PROBES", "Assignment", "Check", "DataPreparer", "ManualPart",
    "probe_functions", "validate_probes",
]  # fmt: skip

PUBLIC_PROBES = "probes.py"
HIDDEN_PROBES = "hidden_probes.py"
CHECKS_FILE = "checks.py"
# Files of an assignment folder that belong to the harness, never to a submission.
# The course seed (grader/batch.py) is the instructor's: never copied to the template.
COURSE_SEED_FILE = ".course_seed"
HARNESS_FILES = frozenset({CHECKS_FILE, PUBLIC_PROBES, HIDDEN_PROBES, "data.py", COURSE_SEED_FILE})

# Writes the data files a worker may read into a folder and returns what must stay
# outside the sandbox (hidden labels), for a given batch seed.
DataPreparer = Callable[[Path, int], Mapping[str, np.ndarray]]


@dataclass(frozen=True, slots=True)
class Check:
    """One graded check: a probe (run in the sandbox) and an expectation (run here).

    `probe` names the probe function; it defaults to the check's name and is looked up
    in probes.py for a public check, hidden_probes.py for a hidden one.

    An `advice` check is good practice the handout does not ask for (a numerically
    stable softmax): the report shows it apart, with its `description` as the reason,
    and it is never counted as a failure of the grade. It is worth 0 points unless the
    assignment gives it points.
    """

    name: str
    points: float
    expect: Expectation
    public: bool = True
    advice: bool = False
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
    `late` states the deadline and late policy as a course file's `[late.<name>]` table does
    (see `grader.intake.lateness.LatePolicy.from_mapping`); `manual` the parts no program
    grades (a proof, a bonus), marked by the instructor with `grader grade --marks`.
    """

    name: str
    title: str
    entry: str
    names: tuple[str, ...]
    checks: tuple[Check, ...]
    prepare_data: DataPreparer | None = None
    folder: Path = field(default=Path("."))
    late: Mapping[str, object] | None = None
    manual: tuple[ManualPart, ...] = ()

    @property
    def public_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.public)

    @property
    def entry_is_notebook(self) -> bool:
        return self.entry.endswith(".ipynb")


def probe_functions(path: Path) -> set[str]:
    """Top-level function names of a probe file, read without importing it."""
    if not path.is_file():
        return set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def validate_probes(assignment: Assignment) -> None:
    """Raise `AssignmentError` when two checks share a name or a probe file lacks a check's probe."""
    names = [c.name for c in assignment.checks]
    if len(names) != len(set(names)):
        raise AssignmentError.in_file(assignment.folder / CHECKS_FILE, "two checks share a name")
    defined = {f: probe_functions(assignment.folder / f) for f in (PUBLIC_PROBES, HIDDEN_PROBES)}
    for c in assignment.checks:
        if c.probe_name not in defined[c.probe_file]:
            raise AssignmentError.in_file(
                assignment.folder / c.probe_file, f"defines no probe {c.probe_name!r} for check {c.name!r}"
            )
