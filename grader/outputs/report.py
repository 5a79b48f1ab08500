"""HTML reports: one self-contained page per submission (the class summary: summary.py).

Pages read `SubmissionResult`s only; every verdict was reached before they are drawn.
Everything a student controls (submission names, file names, messages, captured output,
source, notebook cells and their saved outputs) reaches the page through jinja2
autoescaping, after `clean_text` has removed terminal escape sequences and bidi controls
(README, "Security model": outputs attack the instructor too). Notebook Markdown is rendered as
Jupyter would and sanitised by `grader.outputs.markdown` (no script, no remote resource);
the only images are PNGs checked here again and inlined as data URIs.
Pages carry inline CSS and no scripts or external assets, so a single file can be mailed
to a student or uploaded to an LMS as it is.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from grader.outputs.check_figures import check_figures
from grader.outputs.code_views import (
    ANCHOR_PART,
    CellView,
    Pin,
    SourceView,
    cell_spot,
    cell_views,
    excerpt,
    line_anchor,
    source_views,
    split_location,
)
from grader.outputs.grade_lines import format_number, grade_lines, student_line
from grader.outputs.markdown import MARKDOWN_CSS
from grader.outputs.plots import PLOT_CSS
from grader.outputs.text import clean_text
from grader.results import CheckResult, Diagnosis, NotebookCell, SubmissionResult

__all__ = ["format_number", "report_file_name", "template_environment", "write_submission_report"]

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# Names that would overwrite the class summary or trip Windows when the folder is copied.
_RESERVED = {"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_NAME_LIMIT = 80
_STATUS_ICON = {"passed": "\u2713", "failed": "\u2717", "error": "!", "timeout": "\u25f7"}
# What the badge beside the score says; a load failure is not "graded" to a student's eye.
_SUBMISSION_STATUS = {
    "graded": ("graded", "\u2713"),
    "could not run": ("error", "\u2717"),
    "not graded": ("error", "\u2717"),
}
_NOTES_LIMIT = 12
_PLOT_CSS = Markup(PLOT_CSS)  # the figures' styles, once per page


def report_file_name(submission: str) -> str:
    """A safe, readable HTML file name for a submission's report.

    The result holds only ASCII letters, digits, ``.``, ``_`` and ``-``, never starts
    with a dot or dash, and its stem is at most 80 characters. When the name had to be
    changed to get there (unsafe characters, accents, truncation, upper case that a
    case-insensitive file system would fold, or a reserved name such as ``index``), an
    8-character hash of the original name is appended, so two different submissions do
    not share a file unless their hashes collide; callers need not resolve clashes.
    """
    ascii_name = unicodedata.normalize("NFKD", submission).encode("ascii", "ignore").decode()
    stem = _SAFE_NAME.sub("_", ascii_name).lstrip(".-_")[:_NAME_LIMIT].rstrip(".")
    if not stem or stem != submission or stem != stem.lower() or stem.lower() in _RESERVED:
        digest = hashlib.sha256(submission.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem}-{digest}" if stem else f"submission-{digest}"
    return f"{stem}.html"


def write_submission_report(result: SubmissionResult, out_dir: Path) -> Path:
    """Write the student-facing report for `result` into `out_dir` and return its path.

    Raises OSError when `out_dir` cannot be created or written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / report_file_name(result.submission)
    html = template_environment().get_template("submission.html.j2").render(page=_submission_page(result))
    path.write_text(html, encoding="utf-8")
    return path


@functools.cache
def template_environment() -> Environment:
    # Built once: compiling the templates per submission would dominate a large batch.
    return Environment(
        loader=PackageLoader("grader.outputs", "templates"),
        autoescape=select_autoescape(("html", "htm", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# ---------------------------------------------------------------- view models
# The templates only lay out these plain values; formatting decisions live here.


@dataclass(frozen=True, slots=True)
class _CheckView:
    name: str
    anchor: str
    points: str
    status: str
    icon: str
    public: bool
    message: str
    details: tuple[str, ...]
    stdout: str
    location: str
    location_href: str
    location_target: str  # "line" (of a source file), "cell" (of the notebook) or ""
    advice: bool = False  # good practice beyond the handout: shown apart, never "to fix"
    # issue 13: the likely mistake (a failed check) and the check's pictures
    diagnosis: _DiagnosisView | None = None
    figures: tuple[Markup, ...] = ()


@dataclass(frozen=True, slots=True)
class _DiagnosisView:
    title: str
    handout: str
    how_to_check: str
    right: str
    wrong: str


def _diagnosis_view(diagnosis: Diagnosis | None) -> _DiagnosisView | None:
    if diagnosis is None:
        return None
    return _DiagnosisView(
        title=clean_text(diagnosis.title),
        handout=clean_text(diagnosis.handout),
        how_to_check=clean_text(diagnosis.how_to_check),
        right=", ".join(clean_text(p) for p in diagnosis.right),
        wrong=", ".join(clean_text(p) for p in diagnosis.wrong),
    )


@dataclass(frozen=True, slots=True)
class _FailureView:
    """Why nothing could be run (a load failure): said once, not once per check."""

    message: str
    details: tuple[str, ...]
    location: str
    location_href: str
    location_target: str
    stdout: str
    anchor: str = "error"


@dataclass(frozen=True, slots=True)
class _SubmissionPage:
    title: str
    submission: str
    assignment: str
    score: str
    max_score: str
    percent: float
    status: str
    status_label: str  # "graded", "could not run" or "not graded"
    status_class: str
    error: str
    failure: _FailureView | None
    summary: str
    # a value is one line, or a short list (the grading notes)
    meta: tuple[tuple[str, str | tuple[str, ...]], ...]
    checks: tuple[_CheckView, ...]
    problems: tuple[_CheckView, ...]
    advice: tuple[_CheckView, ...]
    sources: tuple[SourceView, ...]
    notebook_name: str
    cells: tuple[CellView, ...]
    markdown_css: Markup
    # issue 13: checks with pictures, and the pictures' styles
    pictured: tuple[_CheckView, ...] = ()
    plot_css: Markup = _PLOT_CSS
    # under the score: the late penalty, the manual marks and the grade they make (round trip)
    grade_lines: tuple[str, ...] = ()


def _check_view(index: int, check: CheckResult, source: dict[str, str], code: dict[int, NotebookCell]) -> _CheckView:
    hidden = not check.public
    spot = None if hidden else split_location(check.location, source)
    cell = None if hidden or spot else cell_spot(check.location, code)
    return _CheckView(
        name=clean_text(check.name),
        anchor=f"check-{index}-{ANCHOR_PART.sub('_', check.name)[:40]}",
        points=f"{format_number(check.points)} / {format_number(check.max_points)}",
        status=check.status,
        icon=_STATUS_ICON.get(check.status, "?"),
        public=check.public,
        message=clean_text(check.message).strip(),
        # A hidden check shows its name, result and message only: its details could carry
        # inputs, and its output could echo them (the grader already withheld most of it).
        details=() if hidden else tuple(clean_text(d) for d in check.details),
        stdout="" if hidden else excerpt(check.stdout),
        location="" if hidden or not check.location else clean_text(check.location),
        location_href=f"#{line_anchor(*spot)}" if spot else (f"#cell-{cell[0]}" if cell else ""),
        location_target="line" if spot else ("cell" if cell else ""),
        advice=check.advice,
        diagnosis=_diagnosis_view(check.diagnosis),
        figures=check_figures(check),
    )


def _failure_view(result: SubmissionResult, checks: Sequence[_CheckView]) -> _FailureView | None:
    """The one message of a submission that could not run (None when its checks ran).

    A load failure (a SyntaxError, an import that fails, a missing definition) costs every
    check the same way; saying it once, with the student's line, reads as what it is.
    """
    if not result.error and result.status != "error":
        return None
    first = next((c for c in checks if c.status != "passed" and c.public), None)
    same = first is not None and first.message == clean_text(result.error or "").strip()
    return _FailureView(
        message=clean_text(result.error or "the submission could not be graded").strip(),
        details=first.details if same and first else (),
        location=first.location if same and first else "",
        location_href=first.location_href if same and first else "",
        location_target=first.location_target if same and first else "",
        stdout=first.stdout if same and first else "",
    )


def _summary(checks: Sequence[_CheckView], failure: _FailureView | None) -> str:
    graded = [c for c in checks if not c.advice]
    if failure is not None:
        return f"none of the {len(checks)} checks could run" if checks else "no checks were run"
    passed = sum(c.status == "passed" for c in graded)
    hidden = sum(not c.public for c in graded)
    summary = f"{passed} of {len(graded)} checks passed" if graded else "no checks were run"
    if hidden:
        summary += f" ({hidden} hidden)"
    advice = [c for c in checks if c.advice]
    if advice:
        summary += f"; advice followed: {sum(c.status == 'passed' for c in advice)} of {len(advice)}"
    return summary


def _pins(checks: Sequence[_CheckView], raw: Sequence[CheckResult], failure: _FailureView | None) -> list[Pin]:
    if failure is not None:
        # One flag for the one failure, on the line it names (every check carries the same)
        location = next((c.location for c in raw if c.location and c.public), None)
        return [(location, failure.location_target, "could not run", failure.anchor)] if location else []
    return [
        (check.location, view.location_target, view.name, view.anchor)
        for view, check in zip(checks, raw)
        if view.location_target
    ]


def _submission_page(result: SubmissionResult) -> _SubmissionPage:
    code = {cell.index: cell for cell in result.notebook if cell.cell_type == "code"}
    checks = tuple(_check_view(i, c, result.source, code) for i, c in enumerate(result.checks, start=1))
    failure = _failure_view(result, checks)
    status_label = "not graded" if result.status == "error" else ("could not run" if failure else "graded")
    notes = tuple(clean_text(n) for n in result.notes[:_NOTES_LIMIT])
    if len(result.notes) > _NOTES_LIMIT:
        notes += (f"and {len(result.notes) - _NOTES_LIMIT} more",)
    meta: tuple[tuple[str, str | tuple[str, ...]], ...] = (
        *((("Student", student_line(result)),) if result.student is not None else ()),
        ("Submission", clean_text(result.submission)),
        ("Assignment", clean_text(result.assignment)),
        ("Files graded", ", ".join(clean_text(f) for f in result.files) or "none found"),
        ("Graded as", clean_text(result.graded_as) or "unknown"),
        *((("Notes", notes),) if notes else ()),
        ("Isolation", clean_text(result.isolation) or "not recorded"),
        ("Time", f"{result.seconds:.1f} s"),
        # No seed: the hidden checks' inputs come from the course seed, which is the instructor's.
    )
    pins = _pins(checks, result.checks, failure)
    return _SubmissionPage(
        title=f"{clean_text(result.submission)}: {format_number(result.score)} / {format_number(result.max_score)}",
        submission=clean_text(result.submission),
        assignment=clean_text(result.assignment),
        score=format_number(result.score),
        max_score=format_number(result.max_score),
        percent=max(0.0, min(100.0, result.percent)),
        status=result.status,
        status_label=status_label,
        status_class=_SUBMISSION_STATUS[status_label][0],
        error=clean_text(result.error or ("the submission could not be graded" if result.status == "error" else "")),
        failure=failure,
        summary=_summary(checks, failure),
        meta=meta,
        checks=checks,
        problems=() if failure else tuple(c for c in checks if c.status != "passed" and not c.advice),
        advice=() if failure else tuple(c for c in checks if c.advice),
        sources=source_views(result.source, pins),
        notebook_name=clean_text(next((f for f in result.files if f.endswith(".ipynb")), "notebook")),
        cells=cell_views(result.notebook, code, pins),
        markdown_css=Markup(MARKDOWN_CSS),
        pictured=() if failure else tuple(c for c in checks if c.figures),
        grade_lines=grade_lines(result),
    )
