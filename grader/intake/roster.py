"""Class lists as the LMSs export them, and matching them to hand-ins (`--roster`).

Understood (recognised by their header row):

- Moodle grading worksheet: ``Identifier`` ("Participant 12345"), ``Full name``,
  ``Email address``, ... ``Last modified (submission)`` (used as the submission time when the
  export has none); Moodle's participants download (``First name``, ``Last name``, ``Email address``).
- Canvas gradebook export: ``Student`` ("Last, First"), ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``; its "Points Possible" row is skipped.
- Gradescope roster: ``First Name``, ``Last Name``, ``SID``, ``Email``, ``Role`` (only students).

Every roster student without a hand-in gets a hand-in whose error is "no submission".
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from grader.errors import SubmissionError
from grader.intake.identity import Student
from grader.intake.layouts import parse_time
from grader.intake.lms import HandIn, assign_keys

__all__ = [
    "NO_SUBMISSION",
    "Roster",
    "RosterEntry",
    "RosterError",
    "apply_times",
    "match_roster",
    "read_roster",
    "read_time_list",
]

NO_SUBMISSION = "no submission"
_TIME_COLUMNS = (
    "submitted at",
    "submitted_at",
    "submitted",
    "submission time",
    "created_at",
    "last modified (submission)",
)
_MOODLE_TIME_FORMATS = ("%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M", "%d %B %Y %H:%M", "%Y-%m-%d %H:%M")


class RosterError(SubmissionError):
    """A roster file that cannot be read as any LMS's class list."""


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One student of the class list; `submitted_at` only where the LMS lists it."""

    name: str
    lms_id: str = ""
    sid: str = ""
    email: str = ""
    section: str = ""
    submitted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    """A class list and the LMS format it was read as ("moodle", "canvas", "gradescope")."""

    format: str
    entries: tuple[RosterEntry, ...]


def read_roster(path: Path, naive_tz: tzinfo = timezone.utc) -> Roster:
    """Read a Moodle, Canvas or Gradescope class list (CSV, UTF-8 with or without BOM)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise RosterError(f"{path}: cannot be read ({exc.strerror}); give the class list the LMS exported") from None
    rows = list(csv.DictReader(text.splitlines()))
    header = {h.strip().casefold() for h in (rows[0].keys() if rows else []) if h}
    if {"identifier", "full name"} <= header or {"first name", "last name", "email address"} <= header:
        return Roster("moodle", tuple(_moodle(r, naive_tz) for r in rows))
    if {"student", "id"} <= header:
        return Roster("canvas", tuple(_canvas(r) for r in rows if not _is_canvas_extra(r)))
    if {"first name", "last name"} <= header and ("sid" in header or "email" in header):
        students = [r for r in rows if _get(r, "role").casefold() in ("", "student")]
        return Roster("gradescope", tuple(_gradescope(r) for r in students))
    raise RosterError(
        f"{path}: not a class list this grader reads (columns {', '.join(sorted(header))[:200]}); export the "
        "Moodle grading worksheet, the Canvas gradebook, or the Gradescope roster as CSV"
    )


def _get(row: dict[str, str | None], column: str) -> str:
    for key, value in row.items():
        if key is not None and key.strip().casefold() == column:
            return (value or "").strip()
    return ""


def _moodle(row: dict[str, str | None], naive_tz: tzinfo) -> RosterEntry:
    name = _get(row, "full name") or f"{_get(row, 'first name')} {_get(row, 'last name')}".strip()
    ident = re.sub(r"\D", "", _get(row, "identifier"))
    return RosterEntry(
        name,
        ident,
        _get(row, "id number"),
        _get(row, "email address"),
        submitted_at=_moodle_time(_get(row, "last modified (submission)"), naive_tz),
    )


def _moodle_time(text: str, naive_tz: tzinfo) -> datetime | None:
    # "Monday, 6 March 2023, 11:59 PM": the weekday adds nothing and varies by language
    body = text.split(",", 1)[1].strip() if text.count(",") >= 2 else text.strip()
    for fmt in _MOODLE_TIME_FORMATS:
        try:
            return datetime.strptime(body, fmt).replace(tzinfo=naive_tz)
        except ValueError:
            continue
    return None


def _is_canvas_extra(row: dict[str, str | None]) -> bool:
    """Canvas puts "Points Possible" (and sometimes "Student, Test") rows under the header."""
    student = _get(row, "student")
    return not student or student == "Points Possible" or student == "Student, Test"


def _canvas(row: dict[str, str | None]) -> RosterEntry:
    last, _, first = _get(row, "student").partition(",")
    name = f"{first.strip()} {last.strip()}".strip() if first else last.strip()
    return RosterEntry(name, _get(row, "id"), _get(row, "sis user id"), _get(row, "sis login id"), _get(row, "section"))


def _gradescope(row: dict[str, str | None]) -> RosterEntry:
    name = f"{_get(row, 'first name')} {_get(row, 'last name')}".strip()
    return RosterEntry(name, "", _get(row, "sid"), _get(row, "email"), _get(row, "sections"))


def _names(text: str) -> set[str]:
    """Ways the same name is written: "Alan Turing", "Turing, Alan", Canvas's "turingalan"."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    words = ["".join(ch for ch in w if ch.isalnum()) for w in text.split()]
    words = [w for w in words if w]
    return {"".join(words), "".join(words[1:] + words[:1])} if words else set()


def _matches(entry: RosterEntry, student: Student) -> bool:
    if entry.lms_id and entry.lms_id == student.lms_id:
        return True
    if entry.sid and entry.sid == student.sid:
        return True
    if entry.email and entry.email.casefold() == student.email.casefold():
        return True
    return bool(_names(entry.name) & _names(student.name))


def match_roster(hand_ins: tuple[HandIn, ...], roster: Roster) -> tuple[HandIn, ...]:
    """Hand-ins enriched from the roster, plus a "no submission" hand-in per roster student
    who handed nothing in. Hand-ins not on the roster are kept, with a note saying so."""
    used: set[int] = set()
    result = []
    for hand_in in hand_ins:
        found = [i for i, e in enumerate(roster.entries) if i not in used and _matches(e, hand_in.student)]
        if not found:
            result.append(replace(hand_in, notes=(*hand_in.notes, f"not on the {roster.format} roster")))
            continue
        used.add(found[0])
        result.append(_enrich(hand_in, roster.entries[found[0]]))
    missing = [e for i, e in enumerate(roster.entries) if i not in used]
    keys = _new_keys([h.student.key for h in hand_ins], [e.name or e.sid or e.email for e in missing])
    for entry, key in zip(missing, keys, strict=True):
        student = Student(key, entry.name, entry.lms_id, entry.sid, entry.email)
        result.append(HandIn(student, None, error=NO_SUBMISSION))
    return tuple(result)


def _enrich(hand_in: HandIn, entry: RosterEntry) -> HandIn:
    s = hand_in.student
    student = replace(
        s,
        name=s.name if s.members or not entry.name else entry.name,
        lms_id=s.lms_id or entry.lms_id,
        sid=s.sid or entry.sid,
        email=s.email or entry.email,
    )
    better_time = hand_in.time_source in ("", "late-mark") or "approximate" in hand_in.time_source
    if entry.submitted_at is not None and better_time:
        return replace(hand_in, student=student, submitted_at=entry.submitted_at, time_source="submission-list")
    return replace(hand_in, student=student)


def _new_keys(taken: list[str], labels: list[str]) -> list[str]:
    """Keys for roster-only students that collide with no hand-in's key."""
    keys = assign_keys(taken + labels)[len(taken) :]
    existing = {k.casefold() for k in taken}
    return [k if k.casefold() not in existing else assign_keys([k, k])[1] for k in keys]


def read_time_list(path: Path, naive_tz: tzinfo = timezone.utc) -> Roster:
    """A list of submission times the instructor has (a CSV with an `ID`, `SID`, `Email` or
    `Name` column and a `Submitted at` column), or the Moodle grading worksheet. Times are ISO
    8601 or Moodle's own; a time without a zone is taken in `naive_tz`."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise RosterError(f"{path}: cannot be read ({exc.strerror})") from None
    rows = list(csv.DictReader(text.splitlines()))
    header = {h.strip().casefold() for h in (rows[0].keys() if rows else []) if h}
    column = next((c for c in _TIME_COLUMNS if c in header), None)
    if column is None:
        raise RosterError(
            f"{path}: no submission-time column (name one 'Submitted at'); columns: {', '.join(sorted(header))[:200]}"
        )
    entries = []
    for row in rows:
        when = _any_time(_get(row, column), naive_tz)
        name = _get(row, "name") or _get(row, "full name") or _get(row, "student")
        ident = re.sub(r"\D", "", _get(row, "identifier")) or _get(row, "id")
        entries.append(
            RosterEntry(
                name, ident, _get(row, "sid"), _get(row, "email") or _get(row, "email address"), submitted_at=when
            )
        )
    return Roster("time-list", tuple(entries))


def _any_time(text: str, naive_tz: tzinfo) -> datetime | None:
    try:
        when: datetime | None = datetime.fromisoformat(text.strip())
    except ValueError:
        when = parse_time(text) or _moodle_time(text, naive_tz)
    return when.replace(tzinfo=naive_tz) if when is not None and when.tzinfo is None else when


def apply_times(hand_ins: tuple[HandIn, ...], times: Roster) -> tuple[HandIn, ...]:
    """Hand-ins with the listed submission time where the export had none better
    (no time, a late mark only, or approximate file times)."""
    result = []
    for hand_in in hand_ins:
        listed = next((e for e in times.entries if e.submitted_at is not None and _matches(e, hand_in.student)), None)
        weak = hand_in.time_source in ("", "late-mark") or "approximate" in hand_in.time_source
        if listed is not None and weak and hand_in.folder is not None:
            hand_in = replace(hand_in, submitted_at=listed.submitted_at, time_source="submission-list")
        result.append(hand_in)
    return tuple(result)
