"""An instructor's marks for the manual parts (`grader grade ... --marks marks.csv`).

The file is a CSV with one mark per row: the student (their key, LMS id, SID or email, as
the gradebook shows them), the part (one the assignment declares), the points, and an
optional comment. A part nobody marked yet is listed as "not marked yet".

    student,part,points,comment
    Ada_Lovelace_1001,proof,4,"clear induction; the last step skips the ReLU mask"
    ada@example.edu,bonus,5,
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError
from grader.intake.identity import Student
from grader.results import ManualMark, ManualPart

__all__ = ["MarkRow", "MarksError", "marks_for", "read_marks", "unmatched_marks"]

_STUDENT_COLUMNS = ("student", "key", "id", "sid", "email", "identifier")


class MarksError(GraderError, ValueError):
    """A marks file that cannot be read, or that marks a part the assignment does not declare."""


@dataclass(frozen=True, slots=True)
class MarkRow:
    """One row of the marks file: who, which part, how many points, and the comment."""

    line: int
    student: str
    part: str
    points: float | None
    comment: str = ""


def read_marks(path: Path, parts: Sequence[ManualPart]) -> tuple[MarkRow, ...]:
    """Read `path`; raises `MarksError` naming the line of an unknown part or unreadable points."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MarksError(
            f"{path}: cannot be read ({exc}); give a UTF-8 CSV with columns student, part, points, comment"
        ) from None
    reader = csv.DictReader(text.splitlines())
    columns = {(c or "").strip().casefold(): c for c in reader.fieldnames or ()}
    who = [columns[c] for c in _STUDENT_COLUMNS if c in columns]
    if not who or "part" not in columns or "points" not in columns:
        raise MarksError(
            f"{path}: needs the columns student (or key, id, email), part and points; found {', '.join(columns) or 'none'}"
        )
    declared = {p.name: p for p in parts}
    if not declared:
        raise MarksError(f"{path}: this assignment declares no manual parts, so there is nothing to mark")
    rows = []
    for line, row in enumerate(reader, start=2):
        student = next((v.strip() for c in who if (v := row.get(c) or "").strip()), "")
        part = (row.get(columns["part"]) or "").strip()
        if not student and not part:
            continue  # a blank line
        if part not in declared:
            raise MarksError(
                f"{path}:{line}: {part!r} is not a manual part of this assignment (declared: {', '.join(declared)})"
            )
        points = _points(path, line, row.get(columns["points"]) or "", declared[part])
        comment = (row.get(columns["comment"]) or "").strip() if "comment" in columns else ""
        rows.append(MarkRow(line, student, part, points, comment))
    return tuple(rows)


def _points(path: Path, line: int, text: str, part: ManualPart) -> float | None:
    if not text.strip():
        return None  # commented, not marked yet
    try:
        points = float(text.strip().replace(",", "."))
    except ValueError:
        raise MarksError(f"{path}:{line}: points {text!r} is not a number") from None
    if not math.isfinite(points) or points < 0 or points > part.max_points:
        raise MarksError(f"{path}:{line}: {points:g} points for {part.name!r}, which is worth 0 to {part.max_points:g}")
    return points


def _names(student: Student) -> set[str]:
    return {v.casefold() for v in (student.key, student.lms_id, student.sid, student.email) if v}


def marks_for(student: Student, rows: Sequence[MarkRow], parts: Sequence[ManualPart]) -> tuple[ManualMark, ...]:
    """One mark per declared part for `student` (the last row for a part wins)."""
    names = _names(student)
    found = {r.part: r for r in rows if r.student.casefold() in names}
    return tuple(
        ManualMark(p.name, found[p.name].points, found[p.name].comment) if p.name in found else ManualMark(p.name)
        for p in parts
    )


def unmatched_marks(rows: Sequence[MarkRow], students: Sequence[Student]) -> list[MarkRow]:
    """Rows whose student is nobody in the batch (a typo, or a student not handed in)."""
    known = set().union(*(_names(s) for s in students)) if students else set()
    return [r for r in rows if r.student.casefold() not in known]
