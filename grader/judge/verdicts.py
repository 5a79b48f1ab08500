"""Trusted side: turn what a worker reported into `CheckResult`s.

Everything here runs in the grader's process on validated arrays; the worker only ever
reported what happened. A probe that raised is scored 0 with the exception and the
student's own file:line; a probe that returned is judged by the check's expectation.

Every `CheckResult` leaves through `_bounded`: its message, location, detail lines and
output are capped (`MESSAGE_LIMIT` ...), whatever size the worker sent. A hidden check's
result says only which of a few fixed sentences applies (`HIDDEN_WORDING`): nothing the
submission chose (an exception's type or text, a location, a type name, output, the size
of a miss) can carry its hidden inputs out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from grader.assignment import Check
from grader.judge.display import display_of, split_display
from grader.judge.expectations import Observed
from grader.results import CheckResult, CheckStatus
from grader.sandbox.wire import Frame
from grader.text import capped

__all__ = [
    "DETAIL_LIMIT",
    "HIDDEN_WORDING",
    "LOCATION_LIMIT",
    "MESSAGE_LIMIT",
    "STDOUT_LIMIT",
    "describe_error",
    "judge_frame",
    "unrun",
]

# OpenBLAS reports a failed allocation in several ways when RLIMIT_AS bites (README, "Security model")
_MEMORY_SIGNS = ("Memory allocation still failed", "MemoryError", "Unable to allocate")
# What one check's result may hold, in characters, whatever the worker sent.
MESSAGE_LIMIT = 2_400
LOCATION_LIMIT = 300
DETAIL_LIMIT = 600  # per line; at most DETAIL_LINES lines
DETAIL_LINES = 20
STDOUT_LIMIT = 8_000
# The only sentences a hidden check's result shows (besides its name, status and points).
HIDDEN_WORDING = {
    "passed": "correct",
    "failed": "wrong value",
    "exception": "raised an exception",
    "not_implemented": "not implemented",
    "timeout": "timed out",
    "crashed": "crashed",
    "not_loaded": "not run: the submission did not load",
}


def judge_frame(
    check: Check,
    frame: Frame,
    reference: Observed | None,
    secrets: Mapping[str, np.ndarray],
    reference_display: Observed | None = None,
) -> CheckResult:
    """The verdict on one check from its `result` frame.

    What the probe sent under `display.` is never judged: it becomes the result's
    `display`, beside `reference_display` (the reference's, for a public check only).
    """
    header = frame.header
    seconds = _float(header.get("seconds"))
    stdout = str(header.get("stdout", "")) if check.public else ""
    if header.get("status") != "ok":
        return _from_exception(check, header.get("error"), seconds, stdout)
    judged, shown = split_display(frame.arrays)
    verdict = check.expect.judge(judged, reference, secrets, check.public)
    points = round(check.points * max(0.0, min(1.0, verdict.fraction)), 4)
    status: CheckStatus = "passed" if verdict.passed else "failed"
    if not check.public:
        # fixed words; no measured error or display values: the submission chose those numbers
        return _bounded(
            CheckResult(
                check.name,
                points,
                check.points,
                status,
                HIDDEN_WORDING[status],
                False,
                (),
                seconds,
                None,
                "",
                check.advice,
                tolerance=verdict.tolerance,
            )
        )
    display = display_of(shown, reference_display)
    details = _advice_reason(check) + verdict.details
    return _bounded(
        CheckResult(
            check.name, points, check.points, status, verdict.message, True, details, seconds, None, stdout, check.advice,
            error=verdict.error, tolerance=verdict.tolerance, display=display,
        )
    )  # fmt: skip


def unrun(
    check: Check,
    status: CheckStatus,
    message: str,
    details: tuple[str, ...] = (),
    location: str | None = None,
    stdout: str = "",
    hidden: str = "crashed",
) -> CheckResult:
    """A check that produced no result (crash, timeout, import failure): 0 points.

    A hidden check says `HIDDEN_WORDING[hidden]` for an error (or "timed out"), nothing more.
    """
    if not check.public:
        wording = HIDDEN_WORDING["timeout" if status == "timeout" else hidden]
        return _bounded(
            CheckResult(check.name, 0.0, check.points, status, wording, False, (), 0.0, None, "", check.advice)
        )
    details = _advice_reason(check) + details
    return _bounded(
        CheckResult(check.name, 0.0, check.points, status, message, True, details, 0.0, location, stdout, check.advice)
    )


def _advice_reason(check: Check) -> tuple[str, ...]:
    # An advice check says why it is advice: the student should know it asks more than the handout.
    return (f"advice, not asked by the handout: {check.description}",) if check.advice and check.description else ()


def _bounded(result: CheckResult) -> CheckResult:
    """`result` with every text field capped (valid text, bounded length)."""
    return replace(
        result,
        message=capped(result.message, MESSAGE_LIMIT),
        details=tuple(capped(d, DETAIL_LIMIT) for d in result.details[:DETAIL_LINES]),
        location=capped(result.location, LOCATION_LIMIT) if result.location else None,
        stdout=_head_and_tail(result.stdout, STDOUT_LIMIT),
    )


def _head_and_tail(text: str, limit: int) -> str:
    # captured output: the start shows what ran, the end where it stopped
    if len(text) <= limit:
        return capped(text, limit)
    return capped(text[: limit // 2] + "\n[...]\n" + text[-limit // 2 :], limit + 16)


def describe_error(error: Any, public: bool = True) -> tuple[str, tuple[str, ...], str | None]:
    """Message, detail lines and location for an exception the worker recorded."""
    info = error if isinstance(error, dict) else {}
    kind = capped(str(info.get("type", "Exception")), 80)
    text = capped(str(info.get("message", "")), 2000)
    location = capped(info["location"], LOCATION_LIMIT) if isinstance(info.get("location"), str) else None
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
        # Hidden checks: the exception's type, text and location could carry hidden inputs.
        return HIDDEN_WORDING["exception"], (), None
    details: list[str] = []
    code = info.get("code")
    if isinstance(code, str) and code:
        details.append(f"line: {capped(code, 300)}")
    trace = info.get("trace")
    if isinstance(trace, list) and trace:
        details.append("your code: " + " -> ".join(capped(str(t), 120) for t in trace[-6:]))
    return message, tuple(details), location


def _from_exception(check: Check, error: Any, seconds: float, stdout: str) -> CheckResult:
    if not check.public:
        kind = error.get("type") if isinstance(error, dict) else None
        # a missing name or method is as good as not implemented; any other exception is one
        wording = HIDDEN_WORDING[
            "not_implemented" if kind in ("NotImplementedError", "MissingDefinition") else "exception"
        ]
        return _bounded(
            CheckResult(check.name, 0.0, check.points, "error", wording, False, (), seconds, None, "", check.advice)
        )
    message, details, location = describe_error(error, check.public)
    details = _advice_reason(check) + details
    return _bounded(
        CheckResult(
            check.name,
            0.0,
            check.points,
            "error",
            message,
            check.public,
            details,
            seconds,
            location,
            stdout,
            check.advice,
        )
    )


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else 0.0
