"""Gradebooks: a CSV for the instructor's spreadsheet and Gradescope's results.json.

Both read `SubmissionResult`s only. Text that a student controls (submission names,
error messages) passes through `spreadsheet_cell` in the CSV: valid text, one line, at
most `CELL_LIMIT` characters, and never evaluated as a formula (a leading `=` hidden
behind a BOM or a zero-width space, or written fullwidth, included); see the README's
"Security model".
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.outputs.cells import spreadsheet_cell
from grader.outputs.text import clean_text
from grader.results import SubmissionResult

__all__ = ["FIXED_COLUMNS", "write_gradebook", "write_gradescope_json"]

FIXED_COLUMNS = ("submission", "score", "max_score", "percent", "status", "error")


def _text(value: str) -> str:
    """A text cell a spreadsheet shows as text (see `grader.outputs.cells.spreadsheet_cell`)."""
    return spreadsheet_cell(value)


def _number(value: float) -> str:
    """A number cell: plain decimal notation, no trailing zeros, never defused.

    Numbers we write ourselves are not text, so a (hypothetical) negative stays a number.
    """
    if value != value:
        return ""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def write_gradebook(results: Sequence[SubmissionResult], path: Path) -> Path:
    """Write one CSV row per submission to `path` and return `path`.

    Columns: submission, score, max_score, percent, status, error, then one column per
    check (points earned), in the order checks were first seen; a cell is empty when a
    submission did not run that check (for example, it could not be graded). UTF-8
    without a byte-order mark, RFC 4180 quoting. Raises OSError when `path` cannot be
    written.
    """
    check_names: dict[str, None] = {}
    for result in results:
        for check in result.checks:
            check_names.setdefault(check.name, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FIXED_COLUMNS, *(_text(name) for name in check_names)])
        for result in results:
            earned = {c.name: c.points for c in result.checks}
            writer.writerow(
                [
                    _text(result.submission),
                    _number(result.score),
                    _number(result.max_score),
                    _number(round(result.percent, 2)),
                    result.status,
                    _text(result.error or ""),
                    *(_number(earned[name]) if name in earned else "" for name in check_names),
                ]
            )
    return path


def _gradescope_output(result: SubmissionResult, index: int) -> str:
    check = result.checks[index]
    lines = [clean_text(check.message)]
    if check.public:
        # Hidden checks show their message only, as in the HTML report.
        lines += [clean_text(d) for d in check.details]
        if check.location:
            lines.append(f"at {clean_text(check.location)}")
    return "\n".join(line for line in lines if line)


def write_gradescope_json(result: SubmissionResult, path: Path) -> Path:
    """Write Gradescope's autograder ``results.json`` for one submission and return `path`.

    Each check becomes a test with name, score, max_score, status, output and visibility:
    ``visible`` for public checks, ``after_published`` for hidden ones. A submission that
    could not be graded gets score 0, no tests and the reason as the top-level output.
    Raises OSError when `path` cannot be written, ValueError if a score is not finite.
    """
    tests: list[dict[str, Any]] = [
        {
            "name": clean_text(check.name),
            "score": check.points,
            "max_score": check.max_points,
            "status": "passed" if check.passed else "failed",
            "output": _gradescope_output(result, i),
            "visibility": "visible" if check.public else "after_published",
        }
        for i, check in enumerate(result.checks)
    ]
    passed = sum(c.passed for c in result.checks)
    summary = (
        f"This submission could not be graded: {clean_text(result.error or 'unknown reason')}"
        if result.status == "error"
        else f"{passed} of {len(result.checks)} checks passed."
    )
    payload: dict[str, Any] = {
        "score": result.score if result.status == "graded" else 0.0,
        "execution_time": int(round(result.seconds)),  # the spec counts whole seconds
        "output": summary,
        "tests": tests,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Gradescope's parser is strict JSON: NaN/Infinity would break the whole upload.
    path.write_text(json.dumps(payload, indent=2, allow_nan=False), encoding="utf-8")
    return path
