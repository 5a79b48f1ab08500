"""The code a report shows, as plain values for the templates: submitted source files and
notebook cells, line by line, with the checks (or the one load failure) that point at a line.

Split from report.py, which assembles the page; every string a student controls is
cleaned here with `clean_text`, and notebook Markdown is rendered by `grader.outputs.markdown`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.outputs.markdown import cell_labels, render_markdown
from grader.outputs.text import clean_text, head_and_tail
from grader.results import NotebookCell

__all__ = [
    "ANCHOR_PART",
    "SOURCE_LINE_LIMIT",
    "CellView",
    "LineView",
    "Pin",
    "SourceView",
    "cell_spot",
    "cell_views",
    "excerpt",
    "line_anchor",
    "source_views",
    "split_location",
]

ANCHOR_PART = re.compile(r"[^A-Za-z0-9_.-]+")
STDOUT_LIMIT = 6000
SOURCE_LINE_LIMIT = 4000
# "nb.ipynb, line 12 of code cell 6 (In [7]), the cell starting ...": a place in a notebook as
# grading words it (grader.outputs.notebook_view.jupyter_wording) ...
_CODE_CELL_LOCATION = re.compile(r".+?\.ipynb, (?:line (\d+) of )?code cell (\d+)\b.*", re.DOTALL)
# ... and as results stored before that wording ("nb.ipynb cell 7, line 12", every cell counted)
_CELL_LOCATION = re.compile(r".+\.ipynb cell (\d+)(?:, line (\d+))?")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The grader caps images at 1 MiB; a stored result may not have been, so cap again.
_PNG_CHARS_LIMIT = (1 << 20) * 4 // 3 + 8

# How a graded cell is flagged: icon, word, and what it means. "ok" and "" need no flag.
_CELL_STATUS = {
    "error": ("!", "error", "raised an exception when graded"),
    "timeout": ("\u25f7", "timed out", "ran out of time when graded"),
    "skipped": ("\u2013", "skipped", "not run when graded"),
}


@dataclass(frozen=True, slots=True)
class LineView:
    """One line of code as shown, with the flags of the checks that point at it."""

    number: int
    text: str
    anchor: str
    # (check name, check anchor) for every check whose location names this line
    marks: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CellView:
    """One notebook cell as shown: prompt, status badge, lines or rendered Markdown, outputs."""

    index: int
    anchor: str
    kind: str  # "code", "markdown" or "raw"
    prompt: str  # "In [7]", "In [ ]" or "code cell 6" as Jupyter shows it; "" for other cells
    status: str  # "error", "timeout", "skipped", or "" when there is nothing to flag
    icon: str
    status_label: str
    status_note: str
    error: str
    lines: tuple[LineView, ...]  # code cells
    html: Markup  # markdown cells, rendered and sanitised by grader.outputs.markdown
    text: str  # raw cells, shown as text
    # ("text", text), ("png", checked base64 PNG) or ("dropped", why it is not shown)
    outputs: tuple[tuple[str, str], ...]
    # checks located in this cell but on no line shown (the line marks carry the rest)
    marks: tuple[tuple[str, str], ...]
    hit: bool
    omitted: int


@dataclass(frozen=True, slots=True)
class SourceView:
    """One submitted source file, line by line."""

    path: str
    lines: tuple[LineView, ...]
    omitted: int


def excerpt(text: str, limit: int = STDOUT_LIMIT) -> str:
    """Captured text, cleaned and capped, keeping both ends."""
    text = clean_text(text).strip("\n")
    # Keep both ends: the start shows what ran, the end shows where it stopped.
    return head_and_tail(text, limit, f"\n... ({len(text) - limit:,} characters omitted) ...\n")


def line_anchor(path: str, line: int) -> str:
    """The element id of `line` of `path` in a submission report (``L-<path>-<line>``)."""
    return f"L-{ANCHOR_PART.sub('_', path)}-{line}"


def split_location(location: str | None, source: dict[str, str]) -> tuple[str, int] | None:
    """('neural_net.py', 42) for 'neural_net.py:42' when that file and line were submitted."""
    if not location or ":" not in location:
        return None
    path, _, line = location.rpartition(":")
    if path not in source or not line.isdigit():
        return None
    number = int(line)
    return (path, number) if 1 <= number <= min(source[path].count("\n") + 1, SOURCE_LINE_LIMIT) else None


def cell_spot(location: str | None, code: dict[int, NotebookCell]) -> tuple[int, int | None] | None:
    """(7, 12) for 'nb.ipynb, line 12 of code cell 6 (...)' when the 6th code cell is the
    notebook's 7th cell (or for a stored 'nb.ipynb cell 7, line 12'); the line is None when
    it is not given or not shown."""
    cell, line = 0, 0
    if match := _CODE_CELL_LOCATION.fullmatch(location or ""):
        order = sorted(code)
        nth = int(match[2])
        cell, line = (order[nth - 1] if 1 <= nth <= len(order) else 0), int(match[1] or 0)
    elif match := _CELL_LOCATION.fullmatch(location or ""):
        cell, line = int(match[1]), int(match[2] or 0)
    if cell not in code:
        return None
    shown = min(len(text_lines(code[cell].source)), SOURCE_LINE_LIMIT)
    return cell, (line if 1 <= line <= shown else None)


def text_lines(text: str) -> list[str]:
    """Cleaned lines of a text, without the empty line a final newline would add."""
    lines = clean_text(text).split("\n")
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # the file's final newline ends the last line; it does not start one
    return lines


# (the result's own location, "line" or "cell", the name shown, the anchor linked): what a
# code line or cell is flagged with (each failing check, or the one load failure).
Pin = tuple[str | None, str, str, str]


def source_views(source: dict[str, str], pins: Sequence[Pin]) -> tuple[SourceView, ...]:
    """Every submitted file, its lines flagged by the pins that point at them."""
    marks: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for location, target, name, anchor in pins:
        spot = split_location(location, source) if target == "line" else None
        if spot:
            marks.setdefault(spot, []).append((name, anchor))
    views = []
    for path in sorted(source):
        lines = text_lines(source[path])
        shown = lines[:SOURCE_LINE_LIMIT]
        views.append(
            SourceView(
                path=clean_text(path),
                lines=tuple(
                    LineView(n, text, line_anchor(path, n), tuple(marks.get((path, n), ())))
                    for n, text in enumerate(shown, start=1)
                ),
                omitted=len(lines) - len(shown),
            )
        )
    return tuple(views)


def is_png(data: str) -> bool:
    """Whether `data` is base64 of a PNG file: only then may it become a data:image/png URI."""
    if len(data) > _PNG_CHARS_LIMIT:
        return False
    try:
        # validate=True rejects anything outside the base64 alphabet, so nothing else
        # (a quote, a space, another scheme) can reach the src attribute either.
        return base64.b64decode(data, validate=True).startswith(_PNG_MAGIC)
    except (binascii.Error, ValueError):
        return False


def output_views(cell: NotebookCell) -> tuple[tuple[str, str], ...]:
    """A cell's saved outputs: text (capped) and PNGs checked again; anything else noted."""
    views = []
    for kind, data in cell.outputs:
        if kind == "png":
            views.append(
                ("png", data) if is_png(data) else ("dropped", "an image output was left out: it is not a valid PNG")
            )
        elif text := excerpt(data):
            views.append(("text", text))
    return tuple(views)


def cell_views(
    cells: Sequence[NotebookCell], code: dict[int, NotebookCell], pins: Sequence[Pin]
) -> tuple[CellView, ...]:
    """Every notebook cell as Jupyter shows it, flagged by the pins that point into it."""
    marks: dict[tuple[int, int | None], list[tuple[str, str]]] = {}
    for location, target, name, anchor in pins:
        spot = cell_spot(location, code) if target == "cell" else None
        if spot:
            marks.setdefault(spot, []).append((name, anchor))
    labels = cell_labels(
        [{"cell_type": c.cell_type, "source": c.source, "execution_count": c.execution_count} for c in cells]
    )
    views = []
    for cell, jupyter in zip(cells, labels):
        kind = cell.cell_type if cell.cell_type in ("code", "markdown") else "raw"
        lines = text_lines(cell.source)
        shown = lines[:SOURCE_LINE_LIMIT]
        anchor = f"cell-{cell.index}"
        status = cell.status if kind == "code" and cell.status in _CELL_STATUS else ""
        icon, label, note = _CELL_STATUS.get(status, ("", "", ""))
        views.append(
            CellView(
                index=cell.index,
                anchor=anchor,
                kind=kind,
                prompt=clean_text(jupyter.prompt),
                status=status,
                icon=icon,
                status_label=label,
                status_note=note,
                error=excerpt(cell.error, 2000) if status else "",
                lines=tuple(
                    LineView(n, text, f"{anchor}-L{n}", tuple(marks.get((cell.index, n), ())))
                    for n, text in enumerate(shown, start=1)
                )
                if kind == "code"
                else (),
                html=render_markdown(cell.source) if kind == "markdown" else Markup(""),
                text="\n".join(shown) if kind == "raw" else "",
                outputs=output_views(cell) if kind == "code" else (),
                marks=tuple(marks.get((cell.index, None), ())),
                hit=any(index == cell.index for index, _ in marks),
                omitted=len(lines) - len(shown),
            )
        )
    return tuple(views)
