"""What the round trip adds to a student's report: who they are, and how the grade is made.

The late penalty, each manual part's mark and comment, and the grade they add up to are shown
under the score (the big number stays the automated checks' score).
"""

from __future__ import annotations

from grader.outputs.text import clean_text
from grader.results import SubmissionResult

__all__ = ["format_number", "grade_lines", "student_line"]


def format_number(value: float) -> str:
    """Points as people write them: 14, 3.5, 0.25 (never 14.0 or 3.5000001)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else "NaN"


def student_line(result: SubmissionResult) -> str:
    """The student as the LMS names them: name, the group's other members, the LMS id."""
    student = result.student
    assert student is not None
    name = clean_text(student.name or student.key)
    if student.members:
        name += " (with " + ", ".join(clean_text(m) for m in student.members) + ")"
    return name + (f" \u00b7 id {clean_text(student.lms_id)}" if student.lms_id else "")


def grade_lines(result: SubmissionResult) -> tuple[str, ...]:
    """Lines under the score: late work, each manual part, and the grade they add up to."""
    lines = []
    if result.late is not None and result.late.note:
        lines.append(f"Late: {clean_text(result.late.note)}")
    for mark in result.manual:
        points = "not marked yet" if mark.points is None else f"{format_number(mark.points)} points"
        lines.append(
            f"{clean_text(mark.part)} (marked by hand): {points}"
            + (f": {clean_text(mark.comment)}" if mark.comment else "")
        )
    if result.manual or (result.late is not None and result.late.points):
        lines.append(f"Grade: {format_number(result.total)} / {format_number(result.total_max)}")
    return tuple(lines)
