"""What one gradebook row holds: a student, their result, and what a human added.

The LMS formats (lms_formats.py, moodle_feedback.py) read these rows only. The total of a
row is the automated score, plus the manual marks, minus the late penalty, never below 0.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from grader.intake.identity import Student

# the manual parts, marks and late penalty are results' own types, re-exported here
from grader.results import LatePenalty, ManualMark, ManualPart, SubmissionResult

__all__ = [
    "GradebookAssignment",
    "GradebookRow",
    "LatePenalty",
    "ManualMark",
    "ManualPart",
    "atomic_file",
    "atomic_path",
    "gradebook_rows",
    "number",
]


@dataclass(frozen=True, slots=True)
class GradebookAssignment:
    """The assignment as the LMS knows it.

    `max_points` is the automated checks' maximum; `lms_id` the LMS's own id of the
    assignment (Canvas puts it in the column header: `Name (12345)`).
    """

    name: str
    max_points: float
    lms_id: str = ""
    manual_parts: tuple[ManualPart, ...] = ()

    @property
    def maximum(self) -> float:
        """The grade's maximum: the checks and every manual part that is not a bonus."""
        return self.max_points + sum(p.max_points for p in self.manual_parts if not p.bonus)


@dataclass(frozen=True, slots=True)
class GradebookRow:
    """One student's row. `result` is None when they handed nothing in (a roster entry).

    `report` is their HTML report, if one was written (the feedback files take it).
    """

    student: Student
    result: SubmissionResult | None = None
    late: LatePenalty | None = None
    marks: tuple[ManualMark, ...] = ()
    submitted_at: datetime | None = None
    report: Path | None = None

    @property
    def submitted(self) -> bool:
        return self.result is not None

    @property
    def status(self) -> str:
        """ "graded", "error" (handed in, could not be graded) or "no submission"."""
        return self.result.status if self.result is not None else "no submission"

    @property
    def automated(self) -> float:
        return self.result.score if self.result is not None and self.result.status == "graded" else 0.0

    @property
    def manual(self) -> float:
        return sum(m.points for m in self.marks if m.points is not None)

    @property
    def total(self) -> float:
        penalty = self.late.points if self.late is not None else 0.0
        return max(0.0, round(self.automated + self.manual - penalty, 4))

    @property
    def problem(self) -> str:
        """The first thing that went wrong, in one line ("" when nothing did)."""
        if self.result is None:
            return "no submission"
        if self.result.error:
            return self.result.error
        failed = next((c for c in self.result.checks if not c.passed), None)
        return f"{failed.name}: {failed.message}" if failed is not None else ""

    def mark(self, part: str) -> ManualMark | None:
        return next((m for m in self.marks if m.part == part), None)


def gradebook_rows(
    pairs: Iterable[tuple[Student, SubmissionResult | None]],
    late: Mapping[str, LatePenalty] | None = None,
    marks: Mapping[str, Sequence[ManualMark]] | None = None,
    submitted_at: Mapping[str, datetime] | None = None,
    reports: Mapping[str, Path] | None = None,
) -> list[GradebookRow]:
    """One row per (student, result) pair, in order; the mappings are keyed by `Student.key`.

    A result of None is a student with no submission (from the roster).
    """
    late, marks, submitted_at, reports = late or {}, marks or {}, submitted_at or {}, reports or {}
    return [
        GradebookRow(s, r, late.get(s.key), tuple(marks.get(s.key, ())), submitted_at.get(s.key), reports.get(s.key))
        for s, r in pairs
    ]


def number(value: float) -> str:
    """A number cell: plain decimal notation, no trailing zeros, "" for NaN."""
    if math.isnan(value):
        return ""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over `path` when the block completes.

    An interrupted write leaves the previous file (or none), never half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_file(path: Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text file (newline="" for csv) written through `atomic_path`."""
    with atomic_path(path) as tmp, tmp.open("w", encoding=encoding, newline="") as handle:
        yield handle
