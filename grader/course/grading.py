"""Grade one submission, as a visible list of steps: validate, stage and observe, judge, assemble.

Staging is `grader.course.staging`, running workers (with retries after a crash)
`grader.course.observe`, judging a frame `grader.judge.verdicts`; this module only
orders them and builds the `SubmissionResult`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from grader.assignment import Check
from grader.course.context import BatchContext
from grader.course.observe import Observation, observe
from grader.intake.discovery import Submission
from grader.judge.diagnosis import diagnose
from grader.judge.display import split_display
from grader.judge.verdicts import judge_frame, unrun
from grader.outputs.notebook_view import in_jupyter_terms, notebook_notes, notebook_problem, report_cells
from grader.results import CheckResult, SubmissionResult

__all__ = ["BatchContext", "grade_submission"]


def grade_submission(submission: Submission, context: BatchContext) -> SubmissionResult:
    """Grade one submission; never raises for anything the student did.

    The steps, in order: validate (a submission that cannot run ends here), stage and
    observe (`observe` copies the files and runs the workers), judge each check, assemble.
    """
    refused = _validate(submission, context)
    if refused is not None:
        return refused
    observation = observe(submission, context, context.selected)
    results = tuple(_judge(c, observation, context) for c in context.selected)
    return _assemble(submission, context, observation, results)


def _common(submission: Submission, context: BatchContext) -> dict[str, Any]:
    """The fields every result of this batch carries."""
    return {"submission": submission.id, "assignment": context.assignment.name, "max_score": context.max_score, "seed": context.seed, "isolation": context.isolation.describe()}


def _validate(submission: Submission, context: BatchContext) -> SubmissionResult | None:
    """The result for a submission that cannot be run at all (None: it can)."""
    common = _common(submission, context)
    if submission.error is not None or submission.root is None or submission.entry is None:
        return SubmissionResult(score=0.0, status="error", error=submission.error, files=submission.files, **common)
    problem = notebook_problem(submission.root / submission.entry) if submission.kind == "notebook" else None
    if problem is not None:
        results = tuple(unrun(c, "error", problem) for c in context.selected)
        return SubmissionResult(score=0.0, status="graded", checks=results, error=problem, files=submission.files, graded_as="notebook", **common)
    return None


def _assemble(submission: Submission, context: BatchContext, observation: Observation, results: tuple[CheckResult, ...]) -> SubmissionResult:
    """The submission's result: score, per-check results, notes and what the report shows."""
    assert submission.root is not None and submission.entry is not None
    entry_path = submission.root / submission.entry
    error = observation.load_error.message if observation.load_error else None
    notebook = submission.kind == "notebook"
    if notebook:  # places in the notebook as Jupyter shows them: "code cell 6 (In [7])"
        results, error = in_jupyter_terms(entry_path, results, error)
    return SubmissionResult(
        score=round(sum(r.points for r in results), 4),
        status="graded",
        checks=results,
        error=error,
        seconds=observation.seconds,
        files=submission.files,
        graded_as=f"{observation.mode or submission.kind}: {submission.entry}",
        source=_sources(submission),
        notes=_ignored_note(submission) + (notebook_notes(entry_path, observation.cells, context.assignment.names) if notebook else ()),
        notebook=report_cells(entry_path, observation.cells) if notebook else (),
        **_common(submission, context),
    )


def _judge(check: Check, observation: Observation, context: BatchContext) -> CheckResult:
    """One check's result: a load failure or crash if there was one, else the verdict on its frame."""
    if observation.load_error is not None:
        failure = observation.load_error
        return unrun(check, failure.status, failure.message, failure.details, failure.location, failure.stdout)
    if check.name in observation.failures:
        return observation.failures[check.name]
    frame = observation.frames.get(check.name)
    if frame is None:
        return unrun(check, "error", "no result came back for this check")
    reference = context.expected.get(check.name)
    result = judge_frame(check, frame, reference, context.secrets, context.displays.get(check.name))
    if result.status != "failed":
        return result
    # issue 13: name the likely mistake behind a failed check
    diagnosis = diagnose(check, split_display(frame.arrays)[0], reference, context.mistakes, context.secrets)
    return replace(result, diagnosis=diagnosis) if diagnosis else result


def _ignored_note(submission: Submission) -> tuple[str, ...]:
    """Files handed in but not graded (compiled files, links, data): say so, once."""
    if not submission.ignored:
        return ()
    shown = ", ".join(submission.ignored[:8]) + (f" and {len(submission.ignored) - 8} more" if len(submission.ignored) > 8 else "")
    return (f"not read (only .py and .ipynb files are graded): {shown}",)


def _sources(submission: Submission) -> dict[str, str]:
    assert submission.root is not None
    texts = {}
    for rel in submission.files:
        if rel.endswith(".py"):
            texts[rel] = (submission.root / rel).read_bytes()[:200_000].decode("utf-8", errors="replace")
    return texts
