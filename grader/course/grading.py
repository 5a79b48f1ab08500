"""Grade one submission, as a visible list of steps: validate, stage and observe, judge, assemble.

Staging is `grader.course.staging`, running workers (with retries after a crash)
`grader.course.observe`, judging a frame `grader.judge.verdicts`; this module only
orders them and builds the `SubmissionResult`.

What the grader itself reads of a submission to show it (file names, source, a notebook's
cells) has a budget per submission, independent of what the student sent: at most
`SHOWN_FILES` source files and `SHOWN_SOURCE_CHARS` characters of source, a notebook parsed
here only when it is at most `NOTEBOOK_PARSE_BYTES` and `NOTEBOOK_PARSE_CELLS` cells (the
worker parses it either way, under its own limits), and at most `SHOWN_NOTEBOOK_CHARS`
characters and `SHOWN_IMAGE_CHARS` of images of it kept. Every string read here is made
valid text once (`grader.text`), so nothing a student named can break a report.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.assignment import Check
from grader.course.context import BatchContext
from grader.course.observe import Observation, observe
from grader.intake.discovery import Submission
from grader.judge.diagnosis import diagnose
from grader.judge.display import split_display
from grader.judge.verdicts import judge_frame, unrun
from grader.outputs.notebook_view import in_jupyter_terms, notebook_notes, notebook_problem, report_cells
from grader.results import CheckResult, NotebookCell, SubmissionResult
from grader.text import capped, valid_strings

__all__ = [
    "NOTEBOOK_PARSE_BYTES",
    "NOTEBOOK_PARSE_CELLS",
    "SHOWN_FILES",
    "SHOWN_IMAGE_CHARS",
    "SHOWN_NOTEBOOK_CHARS",
    "SHOWN_SOURCE_CHARS",
    "BatchContext",
    "grade_submission",
]

SHOWN_FILES = 20
SHOWN_SOURCE_CHARS = 400_000
LISTED_FILES = 100  # file names kept in the result (each at most PATH_CHARS)
PATH_CHARS = 240
NOTEBOOK_PARSE_BYTES = 8 << 20
NOTEBOOK_PARSE_CELLS = 2_000
SHOWN_NOTEBOOK_CHARS = 400_000
SHOWN_IMAGE_CHARS = 4 << 20  # base64 characters of PNG outputs, all cells together
NOTE_CHARS = 600
ERROR_CHARS = 4_000  # why a submission could not be graded (intake may list many problems)


def grade_submission(submission: Submission, context: BatchContext) -> SubmissionResult:
    """Grade one submission; never raises for anything the student did.

    The steps, in order: validate (a submission that cannot run ends here), stage and
    observe (`observe` copies the files and runs the workers), judge each check, assemble.
    """
    refused = _validate(submission, context)
    if refused is not None:
        return _valid_result(refused)
    observation = observe(submission, context, context.selected)
    results = tuple(_judge(c, observation, context) for c in context.selected)
    return _valid_result(_assemble(submission, context, observation, results))


def _valid_result(result: SubmissionResult) -> SubmissionResult:
    """Every string of `result` as valid text: names and paths a student chose, the text of
    their notebook and sources, messages. Surrogates (a latin-1 folder name, a `\\ud800`
    escape) become U+FFFD here, once, so that no writer downstream can fail on them."""
    return SubmissionResult.from_json(valid_strings(result.to_json()))


def _common(submission: Submission, context: BatchContext) -> dict[str, Any]:
    """The fields every result of this batch carries."""
    return {
        "submission": submission.id,
        "assignment": context.assignment.name,
        "max_score": context.max_score,
        "seed": context.seed,
        "isolation": context.isolation.describe(),
    }


def _validate(submission: Submission, context: BatchContext) -> SubmissionResult | None:
    """The result for a submission that cannot be run at all (None: it can)."""
    common = _common(submission, context)
    files = _listed(submission.files)
    if submission.error is not None or submission.root is None or submission.entry is None:
        error = capped(submission.error, ERROR_CHARS) if submission.error is not None else None
        return SubmissionResult(score=0.0, status="error", error=error, files=files, **common)
    path = submission.root / submission.entry
    problem = notebook_problem(path) if submission.kind == "notebook" and _parse_here(path) is None else None
    if problem is not None:
        results = tuple(unrun(c, "error", problem, hidden="not_loaded") for c in context.selected)
        return SubmissionResult(
            score=0.0, status="graded", checks=results, error=problem, files=files, graded_as="notebook", **common
        )
    return None


def _assemble(
    submission: Submission, context: BatchContext, observation: Observation, results: tuple[CheckResult, ...]
) -> SubmissionResult:
    """The submission's result: score, per-check results, notes and what the report shows."""
    assert submission.root is not None and submission.entry is not None
    entry_path = submission.root / submission.entry
    error = observation.load_error.message if observation.load_error else None
    notes = submission.notes + _ignored_note(submission) + _files_note(submission)
    cells: tuple[NotebookCell, ...] = ()
    if submission.kind == "notebook":
        too_big = _parse_here(entry_path)  # parsed here only within the budget
        if too_big is None:
            # places in the notebook as Jupyter shows them: "code cell 6 (In [7])"
            results, error = in_jupyter_terms(entry_path, results, error)
            notes += notebook_notes(entry_path, observation.cells, context.assignment.names)
            cells = _shown_cells(report_cells(entry_path, observation.cells))
        else:
            notes += (too_big,)
    return SubmissionResult(
        score=round(sum(r.points for r in results), 4),
        status="graded",
        checks=results,
        error=error,
        seconds=observation.seconds,
        files=_listed(submission.files),
        graded_as=f"{observation.mode or submission.kind}: {submission.entry}",
        source=_sources(submission),
        notes=tuple(capped(n, NOTE_CHARS) for n in notes),
        notebook=cells,
        **_common(submission, context),
    )


def _judge(check: Check, observation: Observation, context: BatchContext) -> CheckResult:
    """One check's result: a load failure or crash if there was one, else the verdict on its frame."""
    if observation.load_error is not None:
        failure = observation.load_error
        return unrun(
            check,
            failure.status,
            failure.message,
            failure.details,
            failure.location,
            failure.stdout,
            hidden="not_loaded",
        )
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
    shown = ", ".join(n[:PATH_CHARS] for n in submission.ignored[:8]) + (
        f" and {len(submission.ignored) - 8} more" if len(submission.ignored) > 8 else ""
    )
    return (f"not read (only .py and .ipynb files are graded): {shown}",)


def _listed(files: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(capped(f, PATH_CHARS) for f in files[:LISTED_FILES])


def _files_note(submission: Submission) -> tuple[str, ...]:
    sources = [f for f in submission.files if f.endswith(".py")]
    notes = []
    if len(submission.files) > LISTED_FILES:
        notes.append(f"{len(submission.files)} files were graded; the first {LISTED_FILES} are listed")
    if len(sources) > SHOWN_FILES:
        notes.append(
            f"{len(sources)} source files; the report shows the first {SHOWN_FILES} (at most {SHOWN_SOURCE_CHARS:,} characters in all)"
        )
    return tuple(notes)


def _sources(submission: Submission) -> dict[str, str]:
    """The source files shown in the report: the graded entry first, then the others in
    order, within SHOWN_FILES files and SHOWN_SOURCE_CHARS characters in all."""
    assert submission.root is not None
    ordered = sorted((f for f in submission.files if f.endswith(".py")), key=lambda f: f != submission.entry)
    texts: dict[str, str] = {}
    room = SHOWN_SOURCE_CHARS
    for rel in ordered[:SHOWN_FILES]:
        if room <= 0:
            break
        with (submission.root / rel).open("rb") as handle:
            raw = handle.read(room)  # never more than the budget left, whatever the file's size
        text = raw.decode("utf-8", errors="replace")
        texts[capped(rel, PATH_CHARS)] = text
        room -= len(raw)
    return texts


def _parse_here(path: Path) -> str | None:
    """None when the grader may parse this notebook itself (to validate it and show it);
    else the note saying why it is not shown. The worker parses it either way."""
    try:
        size = path.stat().st_size
        if size > NOTEBOOK_PARSE_BYTES:
            return f"{path.name} ({size / 2**20:.1f} MiB) is larger than the {NOTEBOOK_PARSE_BYTES >> 20} MiB the report shows: its cells are not shown"
        cells = json.loads(path.read_bytes()).get("cells", [])
    except (OSError, ValueError, AttributeError, RecursionError):
        return None  # unreadable: `notebook_problem` says why, in the student's terms
    if isinstance(cells, list) and len(cells) > NOTEBOOK_PARSE_CELLS:
        return f"{path.name} has {len(cells):,} cells, more than the {NOTEBOOK_PARSE_CELLS:,} the report shows: its cells are not shown"
    return None


def _shown_cells(cells: tuple[NotebookCell, ...]) -> tuple[NotebookCell, ...]:
    """The notebook's cells within SHOWN_NOTEBOOK_CHARS of text and SHOWN_IMAGE_CHARS of images."""
    text_room, image_room = SHOWN_NOTEBOOK_CHARS, SHOWN_IMAGE_CHARS
    shown = []
    for cell in cells:
        source = cell.source[: max(0, text_room)]
        text_room -= len(source)
        outputs: list[tuple[str, str]] = []
        for kind, data in cell.outputs:
            if kind == "png" and len(data) <= image_room:
                image_room -= len(data)
                outputs.append((kind, data))
            elif kind != "png" and text_room > 0:
                outputs.append((kind, data[:text_room]))
                text_room -= len(data[:text_room])
        shown.append(replace(cell, source=source, outputs=tuple(outputs), error=capped(cell.error, NOTE_CHARS)))
    return tuple(shown)
