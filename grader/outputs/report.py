"""HTML reports: one self-contained page per submission (the class summary: summary.py).

Pages read `SubmissionResult`s only; every verdict was reached before they are drawn.
Everything a student controls (submission names, file names, messages, captured output,
source, notebook cells and their saved outputs) reaches the page through jinja2
autoescaping, after `clean_text` has removed terminal escape sequences and bidi controls
(SANDBOX.md §5: outputs attack the instructor too). Notebook markdown is shown as text,
never rendered; the only images are PNGs checked here again and inlined as data URIs.
Pages carry inline CSS and no scripts or external assets, so a single file can be mailed
to a student or uploaded to an LMS as it is.
"""

from __future__ import annotations

import base64
import binascii
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
from grader.outputs.plots import PLOT_CSS
from grader.outputs.grade_lines import format_number, grade_lines, student_line
from grader.outputs.text import clean_text, head_and_tail
from grader.results import CheckResult, Diagnosis, NotebookCell, SubmissionResult

__all__ = ["format_number", "report_file_name", "template_environment", "write_submission_report"]

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ANCHOR_PART = re.compile(r"[^A-Za-z0-9_.-]+")
# Names that would overwrite the class summary or trip Windows when the folder is copied.
_RESERVED = {"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_NAME_LIMIT = 80
_STDOUT_LIMIT = 6000
_SOURCE_LINE_LIMIT = 4000
_STATUS_ICON = {"passed": "\u2713", "failed": "\u2717", "error": "!", "timeout": "\u25f7"}
# "nb.ipynb cell 7, line 12": how the worker locates a failure inside a notebook cell
_CELL_LOCATION = re.compile(r".+\.ipynb cell (\d+)(?:, line (\d+))?")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The grader caps images at 1 MiB; a stored result may not have been, so cap again.
_PNG_CHARS_LIMIT = (1 << 20) * 4 // 3 + 8
_NOTES_LIMIT = 12
_PLOT_CSS = Markup(PLOT_CSS)  # the figures' styles, once per page
# How a graded cell is flagged: icon, word, and what it means. "ok" and "" need no flag.
_CELL_STATUS = {
    "error": ("!", "error", "raised an exception when graded"),
    "timeout": ("\u25f7", "timed out", "ran out of time when graded"),
    "skipped": ("\u2013", "skipped", "not run when graded"),
}


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
class _LineView:
    number: int
    text: str
    anchor: str
    # (check name, check anchor) for every check whose location names this line
    marks: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _CellView:
    index: int
    anchor: str
    kind: str  # "code", "markdown" or "raw"
    status: str  # "error", "timeout", "skipped", or "" when there is nothing to flag
    icon: str
    status_label: str
    status_note: str
    error: str
    lines: tuple[_LineView, ...]  # code cells
    text: str  # markdown and raw cells, shown as text
    # ("text", text), ("png", checked base64 PNG) or ("dropped", why it is not shown)
    outputs: tuple[tuple[str, str], ...]
    # checks located in this cell but on no line shown (the line marks carry the rest)
    marks: tuple[tuple[str, str], ...]
    hit: bool
    omitted: int


@dataclass(frozen=True, slots=True)
class _SourceView:
    path: str
    lines: tuple[_LineView, ...]
    omitted: int


@dataclass(frozen=True, slots=True)
class _SubmissionPage:
    title: str
    submission: str
    assignment: str
    score: str
    max_score: str
    percent: float
    status: str
    error: str
    summary: str
    # a value is one line, or a short list (the grading notes)
    meta: tuple[tuple[str, str | tuple[str, ...]], ...]
    checks: tuple[_CheckView, ...]
    problems: tuple[_CheckView, ...]
    advice: tuple[_CheckView, ...]
    sources: tuple[_SourceView, ...]
    notebook_name: str
    cells: tuple[_CellView, ...]
    # issue 13: checks with pictures, and the pictures' styles
    pictured: tuple[_CheckView, ...] = ()
    plot_css: Markup = _PLOT_CSS
    # under the score: the late penalty, the manual marks and the grade they make (round trip)
    grade_lines: tuple[str, ...] = ()


def _excerpt(text: str, limit: int = _STDOUT_LIMIT) -> str:
    text = clean_text(text).strip("\n")
    # Keep both ends: the start shows what ran, the end shows where it stopped.
    return head_and_tail(text, limit, f"\n... ({len(text) - limit:,} characters omitted) ...\n")


def _line_anchor(path: str, line: int) -> str:
    """The element id of `line` of `path` in a submission report (``L-<path>-<line>``)."""
    return f"L-{_ANCHOR_PART.sub('_', path)}-{line}"


def _split_location(location: str | None, source: dict[str, str]) -> tuple[str, int] | None:
    """('neural_net.py', 42) for 'neural_net.py:42' when that file and line were submitted."""
    if not location or ":" not in location:
        return None
    path, _, line = location.rpartition(":")
    if path not in source or not line.isdigit():
        return None
    number = int(line)
    return (path, number) if 1 <= number <= min(source[path].count("\n") + 1, _SOURCE_LINE_LIMIT) else None


def _cell_spot(location: str | None, code: dict[int, NotebookCell]) -> tuple[int, int | None] | None:
    """(7, 12) for 'nb.ipynb cell 7, line 12' when cell 7 is a submitted code cell; the
    line is None when it is not given or not shown."""
    match = _CELL_LOCATION.fullmatch(location or "")
    if not match or int(match[1]) not in code:
        return None
    cell, line = int(match[1]), int(match[2] or 0)
    shown = min(len(_text_lines(code[cell].source)), _SOURCE_LINE_LIMIT)
    return cell, (line if 1 <= line <= shown else None)


def _check_view(index: int, check: CheckResult, source: dict[str, str], code: dict[int, NotebookCell]) -> _CheckView:
    hidden = not check.public
    spot = None if hidden else _split_location(check.location, source)
    cell = None if hidden or spot else _cell_spot(check.location, code)
    return _CheckView(
        name=clean_text(check.name),
        anchor=f"check-{index}-{_ANCHOR_PART.sub('_', check.name)[:40]}",
        points=f"{format_number(check.points)} / {format_number(check.max_points)}",
        status=check.status,
        icon=_STATUS_ICON.get(check.status, "?"),
        public=check.public,
        message=clean_text(check.message).strip(),
        # A hidden check shows its name, result and message only: its details could carry
        # inputs, and its output could echo them (the grader already withheld most of it).
        details=() if hidden else tuple(clean_text(d) for d in check.details),
        stdout="" if hidden else _excerpt(check.stdout),
        location="" if hidden or not check.location else clean_text(check.location),
        location_href=f"#{_line_anchor(*spot)}" if spot else (f"#cell-{cell[0]}" if cell else ""),
        location_target="line" if spot else ("cell" if cell else ""),
        advice=check.advice,
        diagnosis=_diagnosis_view(check.diagnosis),
        figures=check_figures(check),
    )


def _text_lines(text: str) -> list[str]:
    lines = clean_text(text).split("\n")
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # the file's final newline ends the last line; it does not start one
    return lines


def _source_views(source: dict[str, str], checks: Sequence[_CheckView], raw: Sequence[CheckResult]) -> tuple[_SourceView, ...]:
    marks: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for view, check in zip(checks, raw):
        spot = _split_location(check.location, source) if view.location_target == "line" else None
        if spot:
            marks.setdefault(spot, []).append((view.name, view.anchor))
    views = []
    for path in sorted(source):
        lines = _text_lines(source[path])
        shown = lines[:_SOURCE_LINE_LIMIT]
        views.append(
            _SourceView(
                path=clean_text(path),
                lines=tuple(
                    _LineView(n, text, _line_anchor(path, n), tuple(marks.get((path, n), ())))
                    for n, text in enumerate(shown, start=1)
                ),
                omitted=len(lines) - len(shown),
            )
        )
    return tuple(views)


def _is_png(data: str) -> bool:
    """Whether `data` is base64 of a PNG file: only then may it become a data:image/png URI."""
    if len(data) > _PNG_CHARS_LIMIT:
        return False
    try:
        # validate=True rejects anything outside the base64 alphabet, so nothing else
        # (a quote, a space, another scheme) can reach the src attribute either.
        return base64.b64decode(data, validate=True).startswith(_PNG_MAGIC)
    except (binascii.Error, ValueError):
        return False


def _output_views(cell: NotebookCell) -> tuple[tuple[str, str], ...]:
    views = []
    for kind, data in cell.outputs:
        if kind == "png":
            views.append(("png", data) if _is_png(data) else ("dropped", "an image output was left out: it is not a valid PNG"))
        elif text := _excerpt(data):
            views.append(("text", text))
    return tuple(views)


def _cell_views(cells: Sequence[NotebookCell], code: dict[int, NotebookCell], checks: Sequence[_CheckView], raw: Sequence[CheckResult]) -> tuple[_CellView, ...]:
    marks: dict[tuple[int, int | None], list[tuple[str, str]]] = {}
    for view, check in zip(checks, raw):
        spot = _cell_spot(check.location, code) if view.location_target == "cell" else None
        if spot:
            marks.setdefault(spot, []).append((view.name, view.anchor))
    views = []
    for cell in cells:
        kind = cell.cell_type if cell.cell_type in ("code", "markdown") else "raw"
        lines = _text_lines(cell.source)
        shown = lines[:_SOURCE_LINE_LIMIT]
        anchor = f"cell-{cell.index}"
        status = cell.status if kind == "code" and cell.status in _CELL_STATUS else ""
        icon, label, note = _CELL_STATUS.get(status, ("", "", ""))
        views.append(
            _CellView(
                index=cell.index,
                anchor=anchor,
                kind=kind,
                status=status,
                icon=icon,
                status_label=label,
                status_note=note,
                error=_excerpt(cell.error, 2000) if status else "",
                lines=tuple(
                    _LineView(n, text, f"{anchor}-L{n}", tuple(marks.get((cell.index, n), ())))
                    for n, text in enumerate(shown, start=1)
                ) if kind == "code" else (),
                text="" if kind == "code" else "\n".join(shown),
                outputs=_output_views(cell) if kind == "code" else (),
                marks=tuple(marks.get((cell.index, None), ())),
                hit=any(index == cell.index for index, _ in marks),
                omitted=len(lines) - len(shown),
            )
        )
    return tuple(views)


def _submission_page(result: SubmissionResult) -> _SubmissionPage:
    code = {cell.index: cell for cell in result.notebook if cell.cell_type == "code"}
    checks = tuple(_check_view(i, c, result.source, code) for i, c in enumerate(result.checks, start=1))
    graded = [c for c in checks if not c.advice]
    passed = sum(c.status == "passed" for c in graded)
    hidden = sum(not c.public for c in graded)
    summary = f"{passed} of {len(graded)} checks passed" if graded else "no checks were run"
    if hidden:
        summary += f" ({hidden} hidden)"
    advice = tuple(c for c in checks if c.advice)
    if advice:
        summary += f"; {sum(c.status == 'passed' for c in advice)} of {len(advice)} advice followed"
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
    return _SubmissionPage(
        title=f"{clean_text(result.submission)}: {format_number(result.score)} / {format_number(result.max_score)}",
        submission=clean_text(result.submission),
        assignment=clean_text(result.assignment),
        score=format_number(result.score),
        max_score=format_number(result.max_score),
        percent=max(0.0, min(100.0, result.percent)),
        status=result.status,
        error=clean_text(result.error or ("the submission could not be graded" if result.status == "error" else "")),
        summary=summary,
        meta=meta,
        checks=checks,
        problems=tuple(c for c in graded if c.status != "passed"),
        advice=advice,
        sources=_source_views(result.source, checks, result.checks),
        notebook_name=clean_text(next((f for f in result.files if f.endswith(".ipynb")), "notebook")),
        cells=_cell_views(result.notebook, code, checks, result.checks),
        pictured=tuple(c for c in checks if c.figures),
        grade_lines=grade_lines(result),
    )

