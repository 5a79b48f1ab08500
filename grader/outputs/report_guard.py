"""One student's report never stops the batch (issue 11).

`report_or_error_row` writes a report through `grader.outputs.report`; when that fails for
any reason, the student gets an error row and a minimal page saying so, and the batch goes
on to the next student, the index and the gradebook.
"""

from __future__ import annotations

import html
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from grader.outputs.report import report_file_name, write_submission_report
from grader.outputs.text import clean_text
from grader.results import SubmissionResult
from grader.text import valid_text

__all__ = ["report_or_error_row"]


def report_or_error_row(result: SubmissionResult, out_dir: Path) -> SubmissionResult:
    """Write `result`'s report and return `result`; when that fails, for any reason, write
    a minimal page saying so and return the student's error row instead: one student's
    report never stops the batch (the rows, the index and the gradebook are still written)."""
    try:
        write_submission_report(result, out_dir)
        return result
    except Exception as exc:  # noqa: BLE001 - a fault of ours on this student's data: their row says so
        reason = valid_text(f"{type(exc).__name__}: {exc}")[:300]
        row = replace(
            result,
            score=0.0,
            status="error",
            error=f"the grader could not write this submission's report ({reason}); regrade it alone and report the problem",
        )
        with suppress(Exception):
            _write_minimal_report(row, out_dir)
        return row


def _write_minimal_report(result: SubmissionResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    name = html.escape(clean_text(valid_text(result.submission)))
    error = html.escape(clean_text(valid_text(result.error or "")))
    page = f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{name}</title></head><body><h1>{name}</h1><p>{error}</p></body></html>\n'
    (out_dir / report_file_name(result.submission)).write_text(page, encoding="utf-8")
