"""grader: automated grading of neural-network course assignments.

Authoring (an assignment's checks.py): `Assignment`, `Check` and the expectations
`matches_reference`, `gradients_agree`, `at_most`, `at_least`, `accuracy_at_least`,
`is_finite`, `rows_sum_to`, `decreases`, `all_of`.
Running: `grade` (a batch), `check()` (the public checks, from a student's notebook),
`self_check` (a student's folder), `GradeOptions`, `Limits`;
results are `SubmissionResult` / `CheckResult`.

Names are imported on first use (PEP 562): the sandboxed worker imports
`grader.worker`, and must not pay for the rest of the package at every start.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Assignment",
    "Check",
    "CheckResult",
    "GradeOptions",
    "GraderError",
    "Limits",
    "SubmissionResult",
    "accuracy_at_least",
    "all_of",
    "at_least",
    "at_most",
    "check",
    "decreases",
    "grade",
    "gradients_agree",
    "is_finite",
    "matches_reference",
    "rows_sum_to",
    "self_check",
]

_WHERE = {
    "Assignment": ("grader.assignment", "Assignment"),
    "Check": ("grader.assignment", "Check"),
    "CheckResult": ("grader.results", "CheckResult"),
    "SubmissionResult": ("grader.results", "SubmissionResult"),
    "GradeOptions": ("grader.course.batch", "GradeOptions"),
    "grade": ("grader.course.batch", "grade"),
    "GraderError": ("grader.errors", "GraderError"),
    "Limits": ("grader.sandbox.limits", "Limits"),
    "self_check": ("grader.course.selfcheck", "self_check"),
    "check": ("grader.course.selfcheck", "check"),
    "matches_reference": ("grader.judge.expectations", "MatchesReference"),
    "gradients_agree": ("grader.judge.expectations", "GradientsAgree"),
    "at_most": ("grader.judge.bounds", "AtMost"),
    "at_least": ("grader.judge.bounds", "AtLeast"),
    "accuracy_at_least": ("grader.judge.bounds", "AccuracyAtLeast"),
    "is_finite": ("grader.judge.expectations", "IsFinite"),
    "rows_sum_to": ("grader.judge.expectations", "RowsSumTo"),
    "decreases": ("grader.judge.expectations", "Decreases"),
    "all_of": ("grader.judge.expectations", "all_of"),
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
