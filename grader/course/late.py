"""Late work in a batch: which policy applies, and the line a student reads about it.

The policy comes from the assignment (`Assignment.late`), overridden by the course file
(`course.toml` beside `reference/`, table `[late.<assignment>]`), and its deadline by
`--deadline`. `grader.intake.lateness` does the arithmetic; this module words it:
"late by 1 day 3 h: −2 points (10% per day)".
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from grader.assignment import Assignment
from grader.errors import GraderError
from grader.intake.lateness import Lateness, LatePolicy, late_penalty
from grader.intake.layouts import parse_time
from grader.intake.lms import HandIn
from grader.outputs.gradebook_rows import number
from grader.results import LatePenalty

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

__all__ = ["COURSE_FILE", "late_policy", "penalty_for", "read_time"]

COURSE_FILE = "course.toml"
_APPROXIMATE = "approximate: from file times in the archive"


def read_time(text: str, zone: tzinfo) -> datetime:
    """A deadline as an instructor writes it (ISO 8601, with or without a zone; `zone` if without).

    Raises `GraderError` saying how to write it when it cannot be read.
    """
    try:
        when: datetime | None = datetime.fromisoformat(text.strip())
    except ValueError:
        when = parse_time(text)
    if when is None:
        raise GraderError(
            f"deadline {text!r} is not a date and time; write e.g. 2026-12-04T23:59 or 2026-12-04T23:59+01:00"
        )
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def _course_table(reference_root: Path, assignment: str) -> dict[str, object]:
    """The `[late.<assignment>]` table of course.toml beside reference/ ({} when there is none)."""
    path = reference_root.parent / COURSE_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GraderError(f"{path}: not valid TOML ({exc}); fix the course file") from None
    late = data.get("late", {})
    table = late.get(assignment, {}) if isinstance(late, dict) else {}
    if not isinstance(table, dict):
        raise GraderError(f"{path}: [late.{assignment}] must be a table (deadline = ..., penalty = ...)")
    return dict(table)


def late_policy(assignment: Assignment, reference_root: Path, deadline: str | None, zone: tzinfo) -> LatePolicy | None:
    """The policy for this batch, or None when nothing states a deadline.

    Assignment first, then the course file's table over it, then `deadline` (from the command
    line) over both; a deadline without a zone is read in `zone`. Raises `GraderError` naming
    what is wrong with a policy that cannot be read.
    """
    table: dict[str, object] = dict(assignment.late or {})
    table.update(_course_table(reference_root, assignment.name))
    if deadline is not None:
        table["deadline"] = deadline
    if "deadline" not in table:
        return None
    raw = table["deadline"]
    # TOML has its own datetimes; a naive one, like a naive string, is in the course's zone
    when = raw if isinstance(raw, datetime) else read_time(str(raw), zone)
    table["deadline"] = (when if when.tzinfo is not None else when.replace(tzinfo=zone)).isoformat()
    return LatePolicy.from_mapping(table)


def penalty_for(policy: LatePolicy, hand_in: HandIn, max_points: float) -> LatePenalty:
    """What lateness costs this hand-in, with the sentence its report shows."""
    lateness = late_penalty(policy, hand_in.submitted_at, hand_in.late_mark, hand_in.time_source, max_points)
    return LatePenalty(lateness.points, _note(policy, lateness, hand_in))


def _note(policy: LatePolicy, lateness: Lateness, hand_in: HandIn) -> str:
    approximate = f" ({_APPROXIMATE})" if lateness.approximate else ""
    if not lateness.late:
        if hand_in.submitted_at is None:
            return "submission time unknown (not marked late): no late penalty"
        return f"on time{approximate}" + (
            "; marked late by the LMS, but handed in before the deadline" if hand_in.late_mark else ""
        )
    if hand_in.submitted_at is None:
        said = f"marked late by the LMS, time unknown (charged as {lateness.units} {policy.per})"
    else:
        said = f"late by {_duration(hand_in.submitted_at - policy.deadline)}"
    if lateness.refused:
        return f"{said}: late work is not accepted (−{_points(lateness.points)}){approximate}"
    return f"{said}: −{_points(lateness.points)} ({_rule(policy)}){approximate}"


def _points(value: float) -> str:
    return f"{number(value)} point" + ("" if value == 1 else "s")


def _rule(policy: LatePolicy) -> str:
    """ "10% per day", "2 points per hour, at most 50%", with the grace period if any."""
    amount = _points(policy.penalty) if policy.in_points else f"{number(policy.penalty * 100)}%"
    rule = f"{amount} per {policy.per}"
    if policy.cap is not None:
        rule += f", at most {_points(policy.cap)}" if policy.in_points else f", at most {number(policy.cap * 100)}%"
    if policy.grace > timedelta(0):
        rule += f", after {_duration(policy.grace)} of grace"
    return rule


def _duration(delta: timedelta) -> str:
    """1 day 3 h, 5 h 12 min, 40 min (whole minutes, rounded up: a second late is a minute)."""
    minutes = max(1, -(-int(delta.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} day" + ("s" if days != 1 else "")] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "0 min"
