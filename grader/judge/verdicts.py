"""Trusted side: turn what a worker reported into `CheckResult`s.

Everything here runs in the grader's process on validated arrays; the worker only ever
reported what happened. A probe that raised is scored 0 with the exception and the
student's own file:line; a probe that returned is judged by the check's expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.assignment import Check
from grader.judge.display import display_of, split_display
from grader.judge.expectations import Observed
from grader.results import CheckResult, CheckStatus
from grader.sandbox.wire import Frame

__all__ = ["judge_frame", "unrun"]

# OpenBLAS reports a failed allocation in several ways when RLIMIT_AS bites (SANDBOX.md trap 12)
_MEMORY_SIGNS = ("Memory allocation still failed", "MemoryError", "Unable to allocate")


def judge_frame(check: Check, frame: Frame, reference: Observed | None, secrets: Mapping[str, np.ndarray], reference_display: Observed | None = None) -> CheckResult:
    """The verdict on one check from its `result` frame.

    What the probe sent under `display.` is never judged: it becomes the result's
    `display`, beside `reference_display` (the reference's, for a public check only).
    """
    header = frame.header
    seconds = _float(header.get("seconds"))
    stdout = str(header.get("stdout", ""))[:8000] if check.public else ""
    if header.get("status") != "ok":
        return _from_exception(check, header.get("error"), seconds, stdout)
    judged, shown = split_display(frame.arrays)
    verdict = check.expect.judge(judged, reference, secrets, check.public)
    points = round(check.points * max(0.0, min(1.0, verdict.fraction)), 4)
    status: CheckStatus = "passed" if verdict.passed else "failed"
    display = display_of(shown, reference_display if check.public else None)
    details = _advice_reason(check) + verdict.details
    return CheckResult(
        check.name, points, check.points, status, verdict.message, check.public, details, seconds, None, stdout, check.advice,
        error=verdict.error, tolerance=verdict.tolerance, display=display,
    )  # fmt: skip


def unrun(check: Check, status: CheckStatus, message: str, details: tuple[str, ...] = (), location: str | None = None, stdout: str = "") -> CheckResult:
    """A check that produced no result (crash, timeout, import failure): 0 points."""
    details = _advice_reason(check) + details
    return CheckResult(check.name, 0.0, check.points, status, message, check.public, details, 0.0, location, stdout if check.public else "", check.advice)


def _advice_reason(check: Check) -> tuple[str, ...]:
    # An advice check says why it is advice: the student should know it asks more than the handout.
    return (f"advice, not asked by the handout: {check.description}",) if check.advice and check.description else ()


def describe_error(error: Any, public: bool = True) -> tuple[str, tuple[str, ...], str | None]:
    """Message, detail lines and location for an exception the worker recorded."""
    info = error if isinstance(error, dict) else {}
    kind = str(info.get("type", "Exception"))[:80]
    text = str(info.get("message", ""))[:2000]
    location = info.get("location") if isinstance(info.get("location"), str) else None
    at = f" at {location}" if location else ""
    if kind == "MissingDefinition":
        message = f"{text}: define it (check the spelling) and run the check again"
    elif kind == "NotImplementedError":
        message = f"not implemented: {text or 'the function raises NotImplementedError'}{at}"
    elif kind == "SyntaxError" and ("print" in text or "Missing parentheses" in text):
        message = f"SyntaxError{at}: {text} (this looks like Python 2 syntax; the course uses Python 3)"
    elif kind == "MemoryError" or any(sign in text for sign in _MEMORY_SIGNS):
        message = f"memory limit reached{at} ({kind})"
    elif public:
        message = f"{kind}{at}: {text}" if text else f"{kind}{at}"
    else:
        # Hidden checks: the exception's text could reveal the hidden inputs.
        message = f"{kind}{at} (hidden check: details withheld)"
    details: list[str] = []
    code = info.get("code")
    if isinstance(code, str) and code:
        details.append(f"line: {code}")
    trace = info.get("trace")
    if isinstance(trace, list) and trace:
        details.append("your code: " + " -> ".join(str(t) for t in trace[-6:]))
    return message, tuple(details), location


def _from_exception(check: Check, error: Any, seconds: float, stdout: str) -> CheckResult:
    message, details, location = describe_error(error, check.public)
    details = _advice_reason(check) + details
    return CheckResult(check.name, 0.0, check.points, "error", message, check.public, details, seconds, location, stdout, check.advice)


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else 0.0
