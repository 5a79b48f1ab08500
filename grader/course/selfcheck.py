"""`grader check`: a student's public checks, run through the same worker as grading.

Nothing in the checked folder or its parents is ever imported or run on the host: a
`checks.py` planted there (or anywhere a student's folder can reach) is ignored. What is
read there is data only: `grader_selfcheck/checks.json` (made by `grader template`), which
gives the assignment's name and the public checks' expected values. The checks themselves
(points, expectations, probes) come from a trusted place, found without looking at the
student's folder: the course named by `--course`/`--reference` (or $GRADER_COURSE /
$GRADER_REFERENCE), else the handout assignments installed with grader. Only for an
assignment found in neither are the checks read from checks.json (as data: an expectation
is rebuilt from its JSON, never imported); its probes then run only in the sandbox.
An instructor's `reference/<name>/` folder is checked with its own checks only when it lies
in one of those trusted places. Either way the submission runs in the sandbox and is
judged here, exactly as `grader grade` would judge it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import CHECKS_FILE, Assignment, Check
from grader.course.assignments import load_assignment
from grader.course.context import BatchContext
from grader.course.grading import grade_submission
from grader.course.locate import handouts_root
from grader.course.template import SELFCHECK_DIR, SELFCHECK_FILE
from grader.errors import AssignmentError, SubmissionError
from grader.intake.discovery import Submission, discover
from grader.judge.expectations import expectation_from_json
from grader.results import SubmissionResult
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.layout import work_folder
from grader.sandbox.limits import Limits

__all__ = ["SelfCheckReport", "check", "self_check", "trusted_roots"]

MAX_SPEC_BYTES = 32 << 20  # a checks.json larger than this is damaged, not parsed


def self_check(
    path: Path | str = ".",
    only: str | None = None,
    isolation: str = "auto",
    limits: Limits | None = None,
    reference_root: Path | None = None,
) -> tuple[SubmissionResult, tuple[int, float]]:
    """Run the public checks (or the one named `only`) on the assignment folder at `path`.

    Returns the result and (number, points) of the hidden checks not run. Raises
    `SubmissionError` when no assignment folder is found at or above `path`.
    """
    limits = limits or Limits()
    start = Path(path).resolve()
    roots = trusted_roots(reference_root)
    for folder in (start, *start.parents):
        if (folder / SELFCHECK_DIR / SELFCHECK_FILE).is_file():
            assignment, expected, hidden = _from_template(folder / SELFCHECK_DIR, roots)
            return _run(folder, assignment, expected, only, isolation, limits), hidden
        if (folder / CHECKS_FILE).is_file() and folder.parent in roots:
            # an instructor's reference folder, in a trusted place: its checks are trusted code
            assignment = load_assignment(folder.name, folder.parent)
            return _from_reference(folder, assignment, only, isolation, limits), _hidden(assignment)
    raise SubmissionError(
        f"{start}: no assignment here; run `grader check` inside your assignment folder (the one holding {SELFCHECK_DIR}/)"
    )


def trusted_roots(reference_root: Path | None = None) -> list[Path]:
    """Folders whose `<assignment>/checks.py` self-check may import, in order: the given
    reference folder, $GRADER_COURSE/reference, $GRADER_REFERENCE, then the handouts
    installed with grader. Never the current folder or the checked one."""
    candidates = [
        reference_root,
        Path(os.environ["GRADER_COURSE"]) / "reference" if os.environ.get("GRADER_COURSE") else None,
        Path(os.environ["GRADER_REFERENCE"]) if os.environ.get("GRADER_REFERENCE") else None,
        handouts_root(),  # inside an installed wheel, or a source checkout's reference/
    ]
    return list(dict.fromkeys(c.resolve() for c in candidates if c is not None and c.is_dir()))


def _installed(name: str, roots: list[Path]) -> Assignment | None:
    """The assignment `name` from the first trusted root holding it (None: none does)."""
    for root in roots:
        if (root / name / CHECKS_FILE).is_file():
            return load_assignment(name, root)
    return None


def _hidden(assignment: Assignment) -> tuple[int, float]:
    hidden = [c for c in assignment.checks if not c.public]
    return len(hidden), sum(c.points for c in hidden)


def _from_template(
    folder: Path, roots: list[Path]
) -> tuple[Assignment, dict[str, dict[str, np.ndarray]], tuple[int, float]]:
    """The assignment to check and its expected values (parsed from checks.json)."""
    spec_path = folder / SELFCHECK_FILE
    try:
        if spec_path.stat().st_size > MAX_SPEC_BYTES:
            raise ValueError(f"larger than {MAX_SPEC_BYTES >> 20} MiB")
        spec: dict[str, Any] = json.loads(spec_path.read_text(encoding="utf-8"))
        expected = {
            str(c["name"]): {
                str(k): np.array(v["data"], dtype=_dtype(v["dtype"])).reshape(v["shape"])
                for k, v in c["expected"].items()
            }
            for c in spec["checks"]
        }
        installed = _installed(str(spec["assignment"]), roots)
        if installed is not None:
            checks = tuple(
                c for c in installed.checks if c.public and (c.name in expected or not c.expect.needs_reference)
            )
            hidden = [c for c in installed.checks if not c.public]
            return replace(installed, checks=checks), expected, (len(hidden), sum(c.points for c in hidden))
        checks = tuple(
            Check(
                c["name"],
                float(c["points"]),
                expectation_from_json(c["expect"]),
                public=True,
                advice=bool(c.get("advice", False)),
                timeout=float(c["timeout"]),
                description=c.get("description", ""),
                probe=c.get("probe", ""),
            )
            for c in spec["checks"]
        )
        assignment = Assignment(
            spec["assignment"], spec.get("title", ""), spec["entry"], tuple(spec["names"]), checks, folder=folder
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AssignmentError.in_file(
            spec_path, f"is damaged ({type(exc).__name__}: {exc}); download the assignment again"
        ) from None
    hidden_spec = spec.get("hidden", {})
    return assignment, expected, (int(hidden_spec.get("count", 0)), float(hidden_spec.get("points", 0)))


def _dtype(name: Any) -> np.dtype[Any]:
    # numbers only: a dtype from a file must never be an object (pickle) or structured one
    dtype = np.dtype(str(name))
    if dtype.kind not in "biuf":
        raise ValueError(f"dtype {name!r} is not numeric")
    return dtype


def _selected(assignment: Assignment, only: str | None) -> tuple[Check, ...]:
    public = assignment.public_checks
    if only is None:
        return public
    chosen = tuple(c for c in public if c.name == only)
    if not chosen:
        raise AssignmentError(f"no public check named {only!r}; public checks: {', '.join(c.name for c in public)}")
    return chosen


def _run(
    folder: Path,
    assignment: Assignment,
    expected: dict[str, dict[str, np.ndarray]],
    only: str | None,
    isolation: str,
    limits: Limits,
) -> SubmissionResult:
    with work_folder() as work:
        (work / "data").mkdir()
        # trusted code only: an installed assignment's own data (a template-only one has none)
        secrets = (
            dict(assignment.prepare_data(work / "data", 0))
            if assignment.prepare_data and assignment.folder.name != SELFCHECK_DIR
            else {}
        )
        context = BatchContext(
            assignment=assignment,
            seed=0,
            data_dir=work / "data",
            isolation=detect_isolation(isolation),
            limits=limits,
            work_root=work,
            secrets=secrets,
            expected=expected,
            checks=_selected(assignment, only),
        )
        return grade_submission(_one_submission(folder, assignment), context)


def _from_reference(
    folder: Path, assignment: Assignment, only: str | None, isolation: str, limits: Limits
) -> SubmissionResult:
    from grader.course.batch import GradeOptions, prepared_context

    options = GradeOptions(seed=0, isolation=isolation, limits=limits, reports=False)
    with prepared_context(assignment, options, checks=_selected(assignment, only)) as context:
        return grade_submission(_one_submission(folder, assignment), context)


def _one_submission(folder: Path, assignment: Assignment) -> Submission:
    found = discover(folder, assignment.entry, folder)
    if len(found) != 1:
        raise SubmissionError(
            f"{folder}: expected one assignment folder holding {assignment.entry}, found {len(found)} submissions"
        )
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

        env = Environment(
            loader=PackageLoader("grader.outputs", "templates"), autoescape=select_autoescape(["html", "j2"])
        )
        env.filters["clean"] = clean_text
        return env.get_template("selfcheck.html.j2").render(report=self, result=self.result)

    def __repr__(self) -> str:
        lines = [f"{self.result.assignment}: {self.result.score:g} / {self.result.max_score:g} points ({self.checked})"]
        if self.result.status == "error":
            lines.append(f"cannot check: {self.result.error}")
        for c in self.result.checks:
            lines.append(
                f"  {'PASS' if c.passed else ('ADVICE' if c.advice else c.status.upper()):8s} {c.name} {c.points:g}/{c.max_points:g}: {c.message}"
            )
            lines += [f"           {d}" for d in c.details[:3]]
        if self.hidden_count:
            lines.append(
                f"{self.hidden_count} hidden checks worth {self.hidden_points:g} more points run when your instructor grades."
            )
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
