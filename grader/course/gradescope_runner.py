"""What `run_autograder` runs on Gradescope: `python -m grader.course.gradescope_runner`.

Grades the one submission in ROOT/submission/ with the assignment in ROOT/source/ (as
`grader gradescope build` laid it out) and writes ROOT/results/results.json. ROOT is
/autograder unless `--root` says otherwise.

The reference solution is needed only for the expected values. Gradescope's image
usually cannot create namespaces, so the student's code runs with resource limits only,
as the same user as the grader: once the expected values are known, everything of the
reference but the probe files is deleted (Gradescope grades each submission in a fresh
container), and so are the reference's staged copies, before any student code runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

from grader.assignment import HIDDEN_PROBES, PUBLIC_PROBES, Assignment
from grader.course.assignments import load_assignment
from grader.course.batch import GradeOptions, prepared_context
from grader.course.context import BatchContext
from grader.course.gradescope import CONFIG_FILE
from grader.course.grading import grade_submission
from grader.intake.discovery import discover
from grader.outputs.gradescope_json import gradescope_results, write_results_json
from grader.results import SubmissionResult

__all__ = ["main", "run_autograder"]

DEFAULT_ROOT = Path("/autograder")


def run_autograder(root: Path = DEFAULT_ROOT, keep_reference: bool = False) -> Path:
    """Grade ROOT/submission/ and write ROOT/results/results.json; return its path.

    Raises `GraderError` (or OSError) when the autograder itself is broken (a missing
    grader.json, an invalid assignment): Gradescope then tells the student the autograder
    failed, rather than recording a score the student did not earn.
    """
    started = time.monotonic()
    source = root / "source"
    config = json.loads((source / CONFIG_FILE).read_text(encoding="utf-8"))
    assignment = load_assignment(str(config["assignment"]), source / "reference")
    options = GradeOptions(seed=int(config["seed"]), cache_dir=None, reports=False, jobs=1)
    with prepared_context(assignment, options) as context:
        if not keep_reference:
            context = _without_reference(context, source / "reference")
        result = _grade(root / "submission", context)
    # stdout is shown to the instructor only (stdout_visibility "hidden")
    print(
        f"{assignment.name}: {result.score:g} / {result.max_score:g}; isolation: {result.isolation or context.isolation.describe()}"
    )
    payload = gradescope_results(result, assignment.checks)
    payload["execution_time"] = round(time.monotonic() - started)
    return write_results_json(payload, root / "results" / "results.json")


def _without_reference(context: BatchContext, reference_root: Path) -> BatchContext:
    """The context with only the probe files kept, the reference and its staged copies gone."""
    assignment: Assignment = context.assignment
    probes = context.work_root / "probes-only"
    probes.mkdir()
    for name in (PUBLIC_PROBES, HIDDEN_PROBES):
        if (assignment.folder / name).is_file():
            shutil.copyfile(assignment.folder / name, probes / name)
    for job in context.work_root.glob("job-*"):
        shutil.rmtree(job, ignore_errors=True)
    shutil.rmtree(reference_root, ignore_errors=True)
    return replace(context, assignment=replace(assignment, folder=probes))


def _grade(folder: Path, context: BatchContext) -> SubmissionResult:
    assignment = context.assignment
    found = discover(folder, assignment.entry, context.work_root / "unpacked") if folder.is_dir() else []
    if len(found) == 1:
        return grade_submission(found[0], context)
    reason = (
        f"no {assignment.entry} found in what you uploaded; upload {assignment.entry} itself"
        if not found
        else f"found {len(found)} separate submissions in what you uploaded; upload only one {assignment.entry}"
    )
    return SubmissionResult(
        "submission", assignment.name, 0.0, context.max_score, "error", error=reason, seed=context.seed
    )


def main(argv: list[str] | None = None) -> int:
    """Command line of `run_autograder`; exit status 1 when the autograder itself failed."""
    parser = argparse.ArgumentParser(prog="run_autograder", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="Gradescope's /autograder folder")
    parser.add_argument(
        "--keep-reference", action="store_true", help="do not delete the reference before grading (debugging)"
    )
    args = parser.parse_args(argv)
    try:
        path = run_autograder(args.root, keep_reference=args.keep_reference)
    except Exception:  # noqa: BLE001 -- shown to the instructor in Gradescope's stdout; no results.json
        traceback.print_exc(file=sys.stdout)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
