"""Gradebooks the LMSs import as they are: Moodle's grading worksheet, Canvas's gradebook
import, and a plain CSV for the instructor's spreadsheet.

Columns follow each LMS's own code (read at moodle/moodle and instructure/canvas-lms):

* Moodle (mod/assign/gradingtable.php, feedback/offline/importgradeslib.php): the
  worksheet's upload finds its columns by their English names and needs `Identifier`
  ("Participant <id>"), `Grade` and `Last modified (grade)`; a grade is skipped when it is
  empty, above `Maximum grade`, or when Moodle's grade was changed after that time.
  `Feedback comments` is taken as HTML, so it is escaped here.
* Canvas (app/models/gradebook_importer.rb): `Student`, `ID`, `SIS User ID`,
  `SIS Login ID`, `Section`, then one column per assignment named `Name (id)`; a row whose
  first cell holds "Points Possible" is optional and sets a new assignment's points.
  Students are matched by ID, then SIS ids, then name.
* plain: one column per fact, one per manual part and one per check.

Every file is UTF-8 with a byte-order mark (Excel needs it to read "José Müller-Øster";
Moodle and Canvas strip it), every text cell goes through `spreadsheet_cell`, and each file
is replaced atomically.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from grader.outputs.cells import spreadsheet_cell, valid_text
from grader.outputs.gradebook_rows import GradebookAssignment, GradebookRow, atomic_file, number

__all__ = [
    "CANVAS_COLUMNS",
    "FORMATS",
    "MOODLE_COLUMNS",
    "PLAIN_COLUMNS",
    "feedback_text",
    "unmatched",
    "write_canvas_gradebook",
    "write_gradebooks",
    "write_moodle_worksheet",
    "write_plain_gradebook",
]

MOODLE_COLUMNS = (
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
)
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
PLAIN_COLUMNS = ("key", "name", "id", "sid", "email", "submitted", "score", "max", "automated", "late penalty")
FORMATS = ("plain", "moodle", "canvas", "gradescope")
# Moodle's "Participant " (hiddenuser) string, before the participant id.
_MOODLE_PARTICIPANT = "Participant "
# Canvas's own export starts its second row so; the importer looks for "Points Possible".
_CANVAS_POINTS_POSSIBLE = "    Points Possible"
_MESSAGE_LIMIT = 300
_BOM = "utf-8-sig"


def write_moodle_worksheet(
    rows: Sequence[GradebookRow], assignment: GradebookAssignment, path: Path, graded_at: datetime | None = None
) -> Path:
    """Write Moodle's offline grading worksheet to `path` and return `path`.

    A row without a Moodle participant id (`Student.lms_id`) is written with an empty
    Identifier, which Moodle's upload skips; `unmatched` lists them. A grade above the
    maximum (a bonus) is capped at it, because Moodle would skip it. `graded_at` (default:
    now) is the `Last modified (grade)`. Raises OSError when `path` cannot be written.
    """
    stamp = _moodle_time(graded_at or datetime.now(timezone.utc))
    with atomic_file(path, encoding=_BOM) as handle:
        writer = csv.writer(handle)
        writer.writerow(MOODLE_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    spreadsheet_cell(_MOODLE_PARTICIPANT + row.student.lms_id) if row.student.lms_id else "",
                    spreadsheet_cell(_display_name(row)),
                    spreadsheet_cell(row.student.email),
                    "Submitted for grading" if row.submitted else "No submission",
                    number(min(row.total, assignment.maximum)) if row.submitted else "",
                    number(assignment.maximum),
                    "Yes",
                    _moodle_time(row.submitted_at) if row.submitted_at else "-",
                    stamp,
                    spreadsheet_cell(html.escape(feedback_text(row, assignment))) if row.submitted else "",
                ]
            )
    return path


def write_canvas_gradebook(
    rows: Sequence[GradebookRow], assignment: GradebookAssignment, path: Path, points_possible: bool = True
) -> Path:
    """Write a Canvas gradebook import (one assignment column) to `path` and return `path`.

    The column is `Name (id)` when the assignment's Canvas id is known, else the name alone
    (Canvas then matches it by title, or creates the assignment). `points_possible` adds the
    "Points Possible" row that Canvas's own export has. Students with no submission get an
    empty cell, which leaves Canvas's grade as it is. Raises OSError when `path` cannot be
    written.
    """
    column = f"{assignment.name} ({assignment.lms_id})" if assignment.lms_id else assignment.name
    with atomic_file(path, encoding=_BOM) as handle:
        writer = csv.writer(handle)
        writer.writerow([*CANVAS_COLUMNS, spreadsheet_cell(column)])
        if points_possible:
            writer.writerow([_CANVAS_POINTS_POSSIBLE, "", "", "", "", number(assignment.maximum)])
        for row in rows:
            student = row.student
            cells = (_display_name(row), student.lms_id, student.sid, "", "")
            writer.writerow([*(spreadsheet_cell(c) for c in cells), number(row.total) if row.submitted else ""])
    return path


def write_plain_gradebook(rows: Sequence[GradebookRow], assignment: GradebookAssignment, path: Path) -> Path:
    """Write the instructor's CSV to `path` and return `path`.

    Columns: `PLAIN_COLUMNS`, then `manual: <part>` per manual part and `manual comments`,
    then `check: <name>` per check (points earned, in the order first seen; empty when a
    student did not run it), then `status` and `problem`. Raises OSError when `path` cannot
    be written.
    """
    checks = _check_names(rows)
    parts = [p.name for p in assignment.manual_parts]
    header = [
        *PLAIN_COLUMNS,
        *(f"manual: {p}" for p in parts),
        "manual comments",
        *(f"check: {c}" for c in checks),
        "status",
        "problem",
    ]
    with atomic_file(path, encoding=_BOM) as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_cell(h) for h in header])
        for row in rows:
            writer.writerow(_plain_row(row, assignment, parts, checks))
    return path


def write_gradebooks(
    rows: Sequence[GradebookRow], assignment: GradebookAssignment, folder: Path, formats: Iterable[str] = ("plain",)
) -> dict[str, Path]:
    """Write each format of `formats` into `folder`; return {format: path written}.

    plain: gradebook.csv; moodle: moodle-grading-worksheet.csv and, when reports exist,
    moodle-feedback-files.zip; canvas: canvas-gradebook.csv; gradescope: one
    results.json per student under gradescope/. Raises ValueError for an unknown format
    and OSError when a file cannot be written.
    """
    from grader.outputs.moodle_feedback import write_moodle_feedback_zip

    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown gradebook format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    written: dict[str, Path] = {}
    if "plain" in wanted:
        written["plain"] = write_plain_gradebook(rows, assignment, folder / "gradebook.csv")
    if "moodle" in wanted:
        written["moodle"] = write_moodle_worksheet(rows, assignment, folder / "moodle-grading-worksheet.csv")
        if any(r.report is not None and r.report.is_file() for r in rows):
            written["moodle-feedback"] = write_moodle_feedback_zip(rows, folder / "moodle-feedback-files.zip")
    if "canvas" in wanted:
        written["canvas"] = write_canvas_gradebook(rows, assignment, folder / "canvas-gradebook.csv")
    if "gradescope" in wanted:
        written["gradescope"] = _write_gradescope_results(rows, folder / "gradescope")
    return written


def unmatched(rows: Sequence[GradebookRow], fmt: str) -> list[GradebookRow]:
    """Rows the LMS of `fmt` cannot match to a student: Moodle needs a participant id,
    Canvas an id, a SIS id or a name."""
    if fmt == "moodle":
        return [r for r in rows if not r.student.lms_id.isdigit()]
    if fmt == "canvas":
        return [r for r in rows if not (r.student.lms_id or r.student.sid or r.student.name)]
    return []


def feedback_text(row: GradebookRow, assignment: GradebookAssignment) -> str:
    """A short plain-text summary for an LMS's feedback comment: the parts of the grade and
    what failed. Hidden checks are named with their fixed wording only."""
    parts = [f"Automated checks: {number(row.automated)}/{number(assignment.max_points)}."]
    result = row.result
    if result is not None and result.status == "error":
        parts.append(f"Could not be graded: {_short(result.error or 'unknown reason')}")
    for mark in row.marks:
        shown = number(mark.points) if mark.points is not None else "not marked yet"
        declared = next((p for p in assignment.manual_parts if p.name == mark.part), None)
        out_of = f"/{number(declared.max_points)}" if declared is not None and mark.points is not None else ""
        parts.append(
            f"{_short(mark.part)}: {shown}{out_of}" + (f" ({_short(mark.comment)})" if mark.comment else "") + "."
        )
    if row.late is not None and row.late.points:
        parts.append(
            f"Late penalty: {number(row.late.points)}" + (f" ({_short(row.late.note)})" if row.late.note else "") + "."
        )
    parts.append(f"Total: {number(row.total)}/{number(assignment.maximum)}.")
    failed = [c for c in result.checks if not c.passed] if result is not None else []
    if failed:
        misses = [f"{_short(c.name)} ({number(c.points)}/{number(c.max_points)}): {_short(c.message)}" for c in failed]
        parts.append("Not passed: " + "; ".join(misses) + ".")
    return " ".join(parts)


def _plain_row(row: GradebookRow, assignment: GradebookAssignment, parts: list[str], checks: list[str]) -> list[str]:
    student = row.student
    earned = {c.name: c.points for c in row.result.checks} if row.result is not None else {}
    marks = [row.mark(p) for p in parts]
    comments = "; ".join(f"{m.part}: {m.comment}" for m in row.marks if m.comment)
    return [
        *(spreadsheet_cell(t) for t in (student.key, _display_name(row), student.lms_id, student.sid, student.email)),
        row.submitted_at.isoformat() if row.submitted_at else "",
        number(row.total),
        number(assignment.maximum),
        number(row.automated),
        number(row.late.points) if row.late is not None else "",
        *(number(m.points) if m is not None and m.points is not None else "" for m in marks),
        spreadsheet_cell(comments),
        *(number(earned[c]) if c in earned else "" for c in checks),
        row.status,
        spreadsheet_cell(row.problem),
    ]


def _check_names(rows: Sequence[GradebookRow]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        for check in row.result.checks if row.result is not None else ():
            names.setdefault(check.name, None)
    return list(names)


def _display_name(row: GradebookRow) -> str:
    """The name, with the other members of a group submission after it."""
    name = row.student.name or row.student.key
    return name + (f" (with {', '.join(row.student.members)})" if row.student.members else "")


def _moodle_time(moment: datetime) -> str:
    """ISO 8601 with its offset: PHP's strtotime (Moodle's reader) parses it exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


def _short(text: str) -> str:
    text = " ".join(valid_text(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _write_gradescope_results(rows: Sequence[GradebookRow], folder: Path) -> Path:
    from grader.outputs.gradescope_json import gradescope_results

    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        if row.result is not None:
            payload = gradescope_results(row.result)
            with atomic_file(folder / f"{row.student.key}.json") as handle:
                handle.write(json.dumps(payload, indent=2, allow_nan=False))
    return folder
