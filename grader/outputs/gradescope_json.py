"""Gradescope's results.json: one submission's checks as Gradescope shows them.

Format: score, execution_time, output, tests[] (name, score, max_score, status, output,
visibility: public checks `visible`, hidden ones `after_published`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.assignment import Check
from grader.outputs.cells import valid_text
from grader.outputs.gradebook_rows import atomic_path
from grader.outputs.text import clean_text
from grader.results import CheckResult, SubmissionResult

__all__ = ["gradescope_results", "write_results_json"]

_OUTPUT_LIMIT = 8_000


def gradescope_results(result: SubmissionResult, declared: Sequence[Check] = ()) -> dict[str, Any]:
    """results.json for one submission, as a JSON-ready dict.

    When the submission could not be graded at all, each check of `declared` (the
    assignment's) is listed with 0 points, so students see what the assignment holds and
    the maximum stays the assignment's.
    """
    if result.checks:
        tests = [_test(c) for c in result.checks]
    else:
        reason = _text(result.error or "the submission could not be graded")
        tests = [_unrun_test(c, reason) for c in declared]
    score = round(sum(float(t["score"]) for t in tests), 4) if result.status == "graded" else 0.0
    passed = sum(1 for c in result.checks if c.passed)
    if result.status == "error":
        summary = f"This submission could not be graded: {_text(result.error or 'unknown reason')}"
    else:
        summary = f"{passed} of {len(tests)} checks passed."
        if result.error:
            summary += f"\n{_text(result.error)}"
    notes = "\n".join(_text(n) for n in result.notes)
    return {
        "score": score,
        "execution_time": round(result.seconds),  # the specification counts whole seconds
        "output": _cap(summary + (f"\n\n{notes}" if notes else "")),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",  # the runner's stdout is for the instructor
        "tests": tests,
    }


def write_results_json(payload: dict[str, Any], path: Path) -> Path:
    """Write `payload` as strict JSON (no NaN: Gradescope's parser would refuse it)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, allow_nan=False), encoding="utf-8")
    return path


def _test(check: CheckResult) -> dict[str, Any]:
    lines = [check.message]
    if check.public:
        lines += [*check.details, f"at {check.location}" if check.location else ""]
        if check.stdout and not check.passed:
            lines.append("output:\n" + check.stdout[-2000:])
    return {
        "name": _text(check.name),
        "score": float(check.points),
        "max_score": float(check.max_points),
        "status": "passed" if check.passed else "failed",
        "output": _cap("\n".join(_text(line) for line in lines if line)),
        "visibility": "visible" if check.public else "after_published",
    }


def _unrun_test(check: Check, reason: str) -> dict[str, Any]:
    return {
        "name": check.name,
        "score": 0.0,
        "max_score": float(check.points),
        "status": "failed",
        "output": _cap(f"not run: {reason}"),
        "visibility": "visible" if check.public else "after_published",
    }


def _text(text: str) -> str:
    return clean_text(valid_text(text))


def _cap(text: str) -> str:
    return text if len(text) <= _OUTPUT_LIMIT else text[: _OUTPUT_LIMIT - 6] + " [...]"
