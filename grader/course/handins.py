"""Before the batch loop: every hand-in of the export, who handed it in, when, and what it costs.

`find_hand_ins` reads the export (`grader.intake.lms.read_export`: Moodle, Canvas, Gradescope
or a folder per student), adds the class list's students who handed nothing in (`--roster`),
the instructor's submission times (`--times`), the late policy and the manual marks. It
returns a `HandIns`: the submissions to grade, in order, and `annotate`, which stamps each
result with its student, submission time, late penalty and marks as it lands (on the trusted
side, after grading; a resumed result is stamped again, so new marks are never lost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.assignment import Assignment
from grader.course.late import late_policy, penalty_for
from grader.course.marks import MarkRow, marks_for, read_marks, unmatched_marks
from grader.errors import GraderError, SubmissionError
from grader.intake.discovery import SOURCE_SUFFIXES, Submission
from grader.intake.identity import Student
from grader.intake.lateness import LatePolicy
from grader.intake.lms import HandIn, as_submission, assign_keys, read_export
from grader.intake.names import student_id
from grader.intake.roster import NO_SUBMISSION, apply_times, match_roster, read_roster, read_time_list
from grader.results import LatePenalty, SubmissionResult

__all__ = ["HandIns", "RoundTrip", "find_hand_ins", "zone"]


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """What the instructor said about the export and the class (the CLI's round-trip options)."""

    layout: str | None = None  # moodle, canvas, gradescope or folders; None: recognised
    roster: Path | None = None  # the class list as the LMS exports it
    times: Path | None = None  # submission times the export lacks (a CSV, or Moodle's worksheet)
    timezone: str = "UTC"  # for times written without a zone (exports, --deadline)
    deadline: str | None = None  # overrides the assignment's and course file's deadline
    late: bool = True  # False: no late penalties at all (--no-late)
    marks: Path | None = None  # the instructor's marks for the manual parts


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What a result of one key gets after grading."""

    student: Student
    submitted_at: str = ""
    late: LatePenalty | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HandIns:
    """The submissions to grade, and what each result is stamped with when it lands."""

    layout: str
    hand_ins: tuple[HandIn, ...]
    submissions: tuple[Submission, ...]
    assignment: Assignment
    stamps: Mapping[str, _Stamp] = field(default_factory=dict)
    marks: tuple[MarkRow, ...] = ()
    messages: tuple[str, ...] = ()  # for the instructor, before grading
    policy: LatePolicy | None = None  # the late policy in force (None: no penalties)
    max_points: float = 0.0  # the grade's maximum, which a fractional late penalty is taken of

    @property
    def absent(self) -> frozenset[str]:
        """Keys of roster students who handed nothing in."""
        return frozenset(h.student.key for h in self.hand_ins if h.folder is None and h.error == NO_SUBMISSION)

    def annotate(self, result: SubmissionResult, fresh: bool = True) -> SubmissionResult:
        """`result` with its student, late penalty and manual marks (idempotent).

        A `fresh` result (just graded) also gets the hand-in's time and notes; a result kept
        from an earlier run keeps the time and notes of the files it graded, and its late
        penalty is recomputed from that time under today's policy.
        """
        stamp = self.stamps.get(result.submission)
        if stamp is None:
            return result
        parts = self.assignment.manual
        marked = replace(
            result,
            student=stamp.student,
            manual=marks_for(stamp.student, self.marks, parts) if parts else (),
            manual_max=sum(p.max_points for p in parts if not p.bonus),
        )
        if fresh:
            notes = (*stamp.notes, *(n for n in result.notes if n not in stamp.notes))
            return replace(marked, submitted_at=stamp.submitted_at, late=stamp.late, notes=notes)
        return replace(marked, late=self._late_again(result))

    def _late_again(self, result: SubmissionResult) -> LatePenalty | None:
        hand_in = next((h for h in self.hand_ins if h.student.key == result.submission), None)
        if self.policy is None or hand_in is None or hand_in.folder is None:
            return None
        when = datetime.fromisoformat(result.submitted_at) if result.submitted_at else None
        return penalty_for(self.policy, replace(hand_in, submitted_at=when), self.max_points)


def zone(name: str) -> tzinfo:
    """The time zone named `name` ("UTC", "Europe/Berlin"); raises `GraderError` if unknown."""
    if name.upper() in ("UTC", "Z"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise GraderError(f"unknown time zone {name!r}; give an IANA name such as Europe/Berlin or UTC") from None


def find_hand_ins(
    path: Path, assignment: Assignment, workspace: Path, settings: RoundTrip, reference_root: Path
) -> HandIns:
    """Every hand-in at `path` (plus roster students without one), ready to grade.

    Raises `SubmissionError` when the batch cannot be read or holds nothing, and
    `GraderError` for an unreadable roster, time list, late policy or marks file.
    """
    tz = zone(settings.timezone)
    policy = late_policy(assignment, reference_root, settings.deadline, tz) if settings.late else None
    marks = read_marks(settings.marks, assignment.manual) if settings.marks is not None else ()
    intake = read_export(path, workspace, layout=settings.layout, entry=assignment.entry, naive_tz=tz)
    hand_ins = _canvas_times(intake.layout, _named_as_today(path, intake.hand_ins))
    messages = [intake.summary(), *intake.notes]
    if not hand_ins:
        raise SubmissionError(
            f"{path}: no submissions found (expected {assignment.entry} files, notebooks, student folders or zips)"
        )
    if settings.times is not None:
        hand_ins = apply_times(hand_ins, read_time_list(settings.times, tz))
    if settings.roster is not None:
        roster = read_roster(settings.roster, tz)
        hand_ins = match_roster(hand_ins, roster)
        absent = sum(h.error == NO_SUBMISSION and h.folder is None for h in hand_ins)
        messages.append(f"roster ({roster.format}): {len(roster.entries)} students, {absent} with no submission")
    max_points = sum(c.points for c in assignment.checks) + sum(p.max_points for p in assignment.manual if not p.bonus)
    stamps = {h.student.key: _stamp(h, policy, max_points) for h in hand_ins}
    if policy is not None:
        messages.append(
            f"deadline {policy.deadline.isoformat()}: {sum(s.late is not None and s.late.points > 0 for s in stamps.values())} late"
        )
    for row in unmatched_marks(marks, [h.student for h in hand_ins]):
        messages.append(f"marks line {row.line}: no student {row.student!r} in this batch (mark ignored)")
    submissions = tuple(as_submission(h) for h in hand_ins)
    return HandIns(intake.layout, hand_ins, submissions, assignment, stamps, marks, tuple(messages), policy, max_points)


def _stamp(hand_in: HandIn, policy: LatePolicy | None, max_points: float) -> _Stamp:
    when = hand_in.submitted_at.isoformat() if hand_in.submitted_at is not None else ""
    late = penalty_for(policy, hand_in, max_points) if policy is not None and hand_in.folder is not None else None
    notes = hand_in.notes
    if hand_in.submitted_at is not None and hand_in.time_source:
        notes = (*notes, f"handed in {when} (time from: {hand_in.time_source})")
    return _Stamp(hand_in.student, when, late, notes)


def _canvas_times(layout: str, hand_ins: tuple[HandIn, ...]) -> tuple[HandIn, ...]:
    """Canvas's zip entries carry the download's time, not the submission's: its late mark
    is the better evidence (no mark: on time), unless a time list gave the real time."""
    if layout != "canvas":
        return hand_ins
    return tuple(
        replace(h, submitted_at=None, time_source="late-mark" if h.late_mark else "")
        if "approximate" in h.time_source
        else h
        for h in hand_ins
    )


def _named_as_today(path: Path, hand_ins: tuple[HandIn, ...]) -> tuple[HandIn, ...]:
    """A single file is named after its folder (`alice/neural_net.py` is alice's), as before."""
    if not (path.is_file() and path.suffix in SOURCE_SUFFIXES and len(hand_ins) == 1):
        return hand_ins
    name = student_id(path.parent.resolve().name or path.stem)
    (key,) = assign_keys([name])
    only = hand_ins[0]
    return (replace(only, student=replace(only.student, key=key, name=name)),)
