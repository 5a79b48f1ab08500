"""After the batch loop: the gradebooks and feedback the LMSs take back, and similar code.

`write_course_outputs` writes the class summary and one gradebook per `--format` (plain,
Moodle's grading worksheet and feedback-files zip, Canvas's gradebook import, Gradescope's
results) from the results alone, so a resumed batch rebuilds them from results.jsonl.
`similar_submissions` reads the graded files (never runs them) for the summary's
"similar submissions" section.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from grader.assignment import HARNESS_FILES, Assignment
from grader.course.grading import NOTEBOOK_PARSE_BYTES, NOTEBOOK_PARSE_CELLS
from grader.course.handins import HandIns
from grader.course.template import strip_solutions
from grader.intake.identity import Student
from grader.intake.roster import NO_SUBMISSION
from grader.outputs.gradebook_rows import GradebookAssignment, GradebookRow, gradebook_rows
from grader.outputs.lms_formats import unmatched, write_gradebooks
from grader.outputs.report import report_file_name, write_submission_report
from grader.outputs.similarity import SimilarPair, similar_pairs
from grader.outputs.summary import write_index
from grader.results import SubmissionResult

__all__ = ["course_rows", "similar_submissions", "write_course_outputs"]

_MAX_CODE_BYTES = 1 << 20


def course_rows(results: Sequence[SubmissionResult], out_dir: Path) -> list[GradebookRow]:
    """One gradebook row per result; a roster student who handed nothing in has no result."""
    # rows are keyed by the result's key (reports, marks, resume); a result of an older run
    # without a student is named by its key
    pairs = [
        (
            r.student
            if r.student is not None and r.student.key == r.submission
            else Student(r.submission, r.submission),
            None if _absent(r) else r,
        )
        for r in results
    ]
    late = {r.submission: r.late for r in results if r.late is not None}
    marks = {r.submission: r.manual for r in results if r.manual}
    times = {r.submission: datetime.fromisoformat(r.submitted_at) for r in results if r.submitted_at}
    reports = {r.submission: out_dir / report_file_name(r.submission) for r in results if not _absent(r)}
    return gradebook_rows(pairs, late, marks, times, reports)


def _absent(result: SubmissionResult) -> bool:
    return result.status == "error" and result.error == NO_SUBMISSION and not result.files


def write_course_outputs(
    results: Sequence[SubmissionResult],
    assignment: Assignment,
    out_dir: Path,
    formats: Sequence[str],
    similar: Sequence[SimilarPair] = (),
    say: Callable[[str], None] = lambda _: None,
    lms_id: str = "",
    reports_dir: Path | None = None,
) -> dict[str, Path]:
    """Write index.html and each gradebook format into `out_dir`; return what was written.

    `reports_dir` is where the students' reports are (default `out_dir`; the feedback files
    take them from there, so `out_dir` may be a staging folder). `say` hears one line per
    format naming the rows its LMS could not match (it would skip them on import).
    """
    written = {"summary": write_index(results, out_dir, assignment.name, similar)}
    rows = course_rows(results, reports_dir or out_dir)
    book = GradebookAssignment(assignment.name, sum(c.points for c in assignment.checks), lms_id, assignment.manual)
    written.update(write_gradebooks(rows, book, out_dir, formats))
    for fmt in dict.fromkeys(formats):
        lost = unmatched(rows, fmt)
        if lost:
            names = ", ".join(r.student.name or r.student.key for r in lost[:5]) + (
                f" and {len(lost) - 5} more" if len(lost) > 5 else ""
            )
            what = "a Moodle participant id" if fmt == "moodle" else "an id or a name"
            say(
                f"warning: {len(lost)} row(s) of the {fmt} gradebook have no {what}, so the LMS will skip them: {names}"
            )
    return written


def refresh_reports(before: Sequence[SubmissionResult], after: Sequence[SubmissionResult], out_dir: Path) -> None:
    """Rewrite the report of each result whose stamp (student, late, marks) changed."""
    old = {r.submission: json.dumps(r.to_json(), sort_keys=True) for r in before}
    for result in after:
        if old.get(result.submission) != json.dumps(result.to_json(), sort_keys=True):
            write_submission_report(result, out_dir)


def similar_submissions(found: HandIns) -> list[SimilarPair]:
    """Pairs of hand-ins whose graded files are near-identical, the template left out."""
    codes = {}
    for hand_in in found.hand_ins:
        if hand_in.entry is not None and hand_in.folder is not None and hand_in.error is None:
            code = _code(hand_in.entry)
            if code:
                codes[hand_in.student.key] = (hand_in.entry.relative_to(hand_in.folder).as_posix(), code)
    return similar_pairs(codes, _boilerplate(found.assignment)) if len(codes) > 1 else []


def _code(path: Path) -> str:
    """The Python in a .py file, or in a notebook's code cells (read as text, never run)."""
    # The grading process's memory is bounded per submission: a notebook is parsed here only
    # within the size the report parses (NOTEBOOK_PARSE_BYTES), and code longer than
    # _MAX_CODE_BYTES is not fingerprinted (copydetect's tokens cost ~20x the text).
    if path.stat().st_size > (NOTEBOOK_PARSE_BYTES if path.suffix == ".ipynb" else _MAX_CODE_BYTES):
        return ""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return text
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return ""
    sources = [c.get("source", "") for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    # IPython magics (%matplotlib, !pip) are not Python: leave them out of the comparison
    lines = ["".join(s) if isinstance(s, list) else str(s) for s in sources[:NOTEBOOK_PARSE_CELLS]]
    code = "\n\n".join(
        "\n".join(line for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))) for cell in lines
    )
    return code if len(code) <= _MAX_CODE_BYTES else ""


def _boilerplate(assignment: Assignment) -> list[str]:
    """What every student was given: the template's version of each reference source."""
    given = []
    for path in sorted(assignment.folder.rglob("*")):
        relative = path.relative_to(assignment.folder).as_posix()
        if (
            not path.is_file()
            or relative in HARNESS_FILES
            or path.suffix not in (".py", ".ipynb")
            or "__pycache__" in relative
        ):
            continue
        code = _code(path)
        try:
            given.append(strip_solutions(code, relative))
        except Exception:  # noqa: BLE001 - a reference the template cannot strip: its code as it is
            given.append(code)
    return given
