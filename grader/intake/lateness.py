"""Deadlines and late policies: how much a late hand-in loses, and why.

A `LatePolicy` is stated by the assignment or the course file (`LatePolicy.from_mapping`).
`late_penalty` turns a hand-in's time (or Canvas's late mark) into a `Lateness`: the fraction
of the total or the points taken off, with a sentence for the report. Times are timezone-aware;
a time that is only approximate (archive entries) is said to be approximate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from grader.errors import GraderError
from grader.intake.layouts import parse_time

__all__ = ["LatePolicy", "Lateness", "late_penalty"]

_UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True, slots=True)
class LatePolicy:
    """A deadline and what lateness costs."""

    deadline: datetime
    """When the work is due; must carry a time zone."""
    grace: timedelta = timedelta(0)
    """Lateness up to this long costs nothing; beyond it, lateness is counted from the deadline."""
    per: Literal["day", "hour"] = "day"
    """The unit lateness is counted in; a started unit counts whole."""
    penalty: float = 0.1
    """Taken off per unit: a fraction of the maximum (0.1 = 10 %), or points when `in_points`."""
    in_points: bool = False
    """`penalty` and `cap` are points rather than fractions of the maximum."""
    cap: float | None = None
    """The most that lateness can take off (same unit as `penalty`); None: up to everything."""
    accept_late: bool = True
    """False: work after the deadline (and grace) earns nothing."""
    unknown_time_units: int = 1
    """Units charged for a late mark without a time (Canvas's `_LATE_`)."""

    def __post_init__(self) -> None:
        if self.deadline.tzinfo is None:
            raise GraderError(f"late policy: deadline {self.deadline.isoformat()} needs a time zone (e.g. +01:00 or Z)")
        if self.per not in _UNITS:
            raise GraderError(f"late policy: 'per' must be 'day' or 'hour', not {self.per!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> LatePolicy:
        """Read a policy from a course file's table, e.g. ``{"deadline": "2026-12-04T23:59+01:00",
        "grace_minutes": 15, "per": "day", "penalty": 0.1, "cap": 0.5, "accept_late": true}``."""
        deadline = _read_time(str(data.get("deadline", "")))
        if deadline is None:
            raise GraderError(
                f"late policy: unreadable deadline {data.get('deadline')!r}; write e.g. 2026-12-04T23:59:00+01:00"
            )
        cap = data.get("cap")
        return cls(
            deadline=deadline,
            grace=timedelta(minutes=float(str(data.get("grace_minutes", 0)))),
            per=cast(Literal["day", "hour"], str(data.get("per", "day"))),  # checked in __post_init__
            penalty=float(str(data.get("penalty", 0.1))),
            in_points=bool(data.get("in_points", False)),
            cap=None if cap is None else float(str(cap)),
            accept_late=bool(data.get("accept_late", True)),
        )


@dataclass(frozen=True, slots=True)
class Lateness:
    """What lateness costs one hand-in: `points` off the total (and the same as a fraction)."""

    late: bool
    points: float = 0.0
    fraction: float = 0.0
    units: int = 0
    approximate: bool = False
    refused: bool = False
    note: str = ""


def late_penalty(
    policy: LatePolicy, submitted_at: datetime | None, late_mark: bool, time_source: str, max_points: float
) -> Lateness:
    """The penalty for a hand-in at `submitted_at` (or only marked late) under `policy`."""
    approximate = "approximate" in time_source
    if submitted_at is None:
        if not late_mark:
            return Lateness(False, note="submission time unknown: no late penalty")
        return _charge(policy, policy.unknown_time_units, max_points, False, "marked late by the LMS (time unknown)")
    if submitted_at.tzinfo is None:
        raise GraderError("late policy: a submission time without a time zone reached the late policy")
    overdue = submitted_at - policy.deadline
    if overdue <= policy.grace:
        if late_mark and overdue <= timedelta(0):
            return Lateness(
                False, approximate=approximate, note="marked late by the LMS, but handed in before the deadline"
            )
        return Lateness(False, approximate=approximate)
    units = math.ceil(overdue / _UNITS[policy.per])
    said = f"{_duration(overdue)} late" + (" (approximate: from file times)" if approximate else "")
    return _charge(policy, units, max_points, approximate, said)


def _charge(policy: LatePolicy, units: int, max_points: float, approximate: bool, said: str) -> Lateness:
    if not policy.accept_late:
        return Lateness(True, max_points, 1.0, units, approximate, True, f"{said}: late work is not accepted")
    per_unit = policy.penalty if policy.in_points else policy.penalty * max_points
    cap = max_points if policy.cap is None else (policy.cap if policy.in_points else policy.cap * max_points)
    points = min(units * per_unit, cap, max_points)
    fraction = points / max_points if max_points else 0.0
    plural = "s" if units != 1 else ""
    return Lateness(
        True,
        points,
        fraction,
        units,
        approximate,
        False,
        f"{said}: {units} {policy.per}{plural} late, {points:g} point(s) off",
    )


def _read_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return parse_time(text)


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
