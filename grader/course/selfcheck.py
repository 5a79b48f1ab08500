"""`grader check`: a student's public checks, run through the same worker as grading.

In a student's folder (made from the template) the public probes and expected values
come from `grader_selfcheck/`; in an instructor's `reference/<name>/` folder they come
from the assignment itself. Either way the submission runs in the sandbox and is judged
here, exactly as `grader grade` would judge it.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import CHECKS_FILE, Assignment, Check
from grader.course.assignments import load_assignment
from grader.course.context import BatchContext
from grader.course.grading import grade_submission
from grader.course.template import SELFCHECK_DIR, SELFCHECK_FILE
from grader.errors import AssignmentError, SubmissionError
from grader.intake.discovery import Submission, discover
from grader.judge.expectations import expectation_from_json
from grader.results import SubmissionResult
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.limits import Limits

__all__ = ["SelfCheckReport", "check", "self_check"]


def self_check(
    path: Path | str = ".",
    only: str | None = None,
    isolation: str = "auto",
    limits: Limits = Limits(),
    reference_root: Path | None = None,
) -> tuple[SubmissionResult, tuple[int, float]]:
    """Run the public checks (or the one named `only`) on the assignment folder at `path`.

    Returns the result and (number, points) of the hidden checks not run. Raises
    `SubmissionError` when no assignment folder is found at or above `path`.
    """
    start = Path(path).resolve()
    for folder in (start, *start.parents):
        if (folder / SELFCHECK_DIR / SELFCHECK_FILE).is_file():
            assignment, expected, hidden = _from_template(folder / SELFCHECK_DIR)
            return _run(folder, assignment, expected, only, isolation, limits), hidden
        if (folder / CHECKS_FILE).is_file():
            assignment = load_assignment(folder.name, reference_root or folder.parent)
            return _from_reference(folder, assignment, only, isolation, limits), _hidden(assignment)
    raise SubmissionError(f"{start}: no assignment here; run `grader check` inside your assignment folder (the one holding {SELFCHECK_DIR}/)")


def _hidden(assignment: Assignment) -> tuple[int, float]:
    hidden = [c for c in assignment.checks if not c.public]
    return len(hidden), sum(c.points for c in hidden)


def _from_template(folder: Path) -> tuple[Assignment, dict[str, dict[str, np.ndarray]], tuple[int, float]]:
    spec_path = folder / SELFCHECK_FILE
    try:
        spec: dict[str, Any] = json.loads(spec_path.read_text(encoding="utf-8"))
        checks = tuple(
            Check(
                c["name"], float(c["points"]), expectation_from_json(c["expect"]), public=True, advice=bool(c.get("advice", False)),
                timeout=float(c["timeout"]), description=c.get("description", ""), probe=c.get("probe", ""),
            )
            for c in spec["checks"]
        )
        expected = {
            c["name"]: {k: np.array(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in c["expected"].items()}
            for c in spec["checks"]
        }
        assignment = Assignment(spec["assignment"], spec.get("title", ""), spec["entry"], tuple(spec["names"]), checks, folder=folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssignmentError.in_file(spec_path, f"is damaged ({type(exc).__name__}: {exc}); download the assignment again") from None
    hidden = spec.get("hidden", {})
    return assignment, expected, (int(hidden.get("count", 0)), float(hidden.get("points", 0)))


def _selected(assignment: Assignment, only: str | None) -> tuple[Check, ...]:
    public = assignment.public_checks
    if only is None:
        return public
    chosen = tuple(c for c in public if c.name == only)
    if not chosen:
        raise AssignmentError(f"no public check named {only!r}; public checks: {', '.join(c.name for c in public)}")
    return chosen


def _run(folder: Path, assignment: Assignment, expected: dict[str, dict[str, np.ndarray]], only: str | None, isolation: str, limits: Limits) -> SubmissionResult:
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        context = BatchContext(
            assignment=assignment,
            seed=0,
            data_dir=work / "data",
            isolation=detect_isolation(isolation),
            limits=limits,
            work_root=work,
            expected=expected,
            checks=_selected(assignment, only),
        )
        return grade_submission(_one_submission(folder, assignment), context)


def _from_reference(folder: Path, assignment: Assignment, only: str | None, isolation: str, limits: Limits) -> SubmissionResult:
    from grader.course.batch import GradeOptions, prepared_context

    options = GradeOptions(seed=0, isolation=isolation, limits=limits, reports=False)
    with prepared_context(assignment, options, checks=_selected(assignment, only)) as context:
        return grade_submission(_one_submission(folder, assignment), context)


def _one_submission(folder: Path, assignment: Assignment) -> Submission:
    found = discover(folder, assignment.entry, folder)
    if len(found) != 1:
        raise SubmissionError(f"{folder}: expected one assignment folder holding {assignment.entry}, found {len(found)} submissions")
    return found[0]


@dataclass(frozen=True, slots=True)
class SelfCheckReport:
    """What `grader.check()` returns: shown as a table in Jupyter, as text elsewhere."""

    result: SubmissionResult
    hidden_count: int
    hidden_points: float
    checked: str  # which file was checked, and when it was last saved

    @property
    def passed(self) -> bool:
        return self.result.status == "graded" and all(c.passed or c.advice for c in self.result.checks)

    def _repr_html_(self) -> str:
        from jinja2 import Environment, PackageLoader, select_autoescape

        from grader.outputs.text import clean_text

        env = Environment(loader=PackageLoader("grader.outputs", "templates"), autoescape=select_autoescape(["html", "j2"]))
        env.filters["clean"] = clean_text
        return env.get_template("selfcheck.html.j2").render(report=self, result=self.result)

    def __repr__(self) -> str:
        lines = [f"{self.result.assignment}: {self.result.score:g} / {self.result.max_score:g} points ({self.checked})"]
        if self.result.status == "error":
            lines.append(f"cannot check: {self.result.error}")
        for c in self.result.checks:
            lines.append(f"  {'PASS' if c.passed else ('ADVICE' if c.advice else c.status.upper()):8s} {c.name} {c.points:g}/{c.max_points:g}: {c.message}")
            lines += [f"           {d}" for d in c.details[:3]]
        if self.hidden_count:
            lines.append(f"{self.hidden_count} hidden checks worth {self.hidden_points:g} more points run when your instructor grades.")
        return "\n".join(lines)


def check(name: str | None = None, path: Path | str = ".") -> SelfCheckReport:
    """Run the public checks (or the one named) from inside a notebook or a script.

    Checks the files as last saved: save the notebook first. Raises `SubmissionError`
    outside an assignment folder.
    """
    result, (count, points) = self_check(path, only=name)
    entry = next((f for f in result.files if f.endswith(".ipynb") or f.endswith(".py")), "")
    saved = ""
    if entry:
        location = Path(path).resolve()
        candidates = [p / entry for p in (location, *location.parents) if (p / entry).is_file()]
        if candidates:
            saved = time.strftime("%H:%M:%S", time.localtime(candidates[0].stat().st_mtime))
    checked = f"checked {result.graded_as or entry}" + (f" as saved at {saved}" if saved else "")
    return SelfCheckReport(result, count, points, checked)
