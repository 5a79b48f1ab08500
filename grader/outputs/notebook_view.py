"""Trusted side of notebook submissions: validate before running, describe after.

Reading a notebook here parses untrusted JSON (nbformat: `json` plus a schema), never
executes it. Outputs shown in reports are the student's own saved outputs, capped: text
and PNG images only (HTML and JavaScript outputs are shown as text, never rendered).

The worker names a place in a notebook as "nb.ipynb cell 7, line 4", counting every cell
(Markdown too). `jupyter_wording` turns that into what a student sees in Jupyter:
"nb.ipynb, line 4 of code cell 6 (In [7]), the cell starting `class fcc:`".
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.outputs.markdown import CellLabel, cell_labels
from grader.outputs.text import head_and_tail
from grader.results import CheckResult, NotebookCell
from grader.worker.notebook import defined_names, read_notebook

__all__ = ["in_jupyter_terms", "jupyter_wording", "notebook_notes", "notebook_problem", "report_cells"]

# How the worker names a place: "nb.ipynb cell 7" or "nb.ipynb cell 7, line 4" (every cell counted).
_WORKER_PLACE = re.compile(r"(?P<notebook>[^\s,:;()`'\"]+\.ipynb) cell (?P<cell>\d+)(?:, line (?P<line>\d+))?")

MAX_CELL_CHARS = 20_000
MAX_TEXT_OUTPUT = 4_000
MAX_IMAGE_BYTES = 1 << 20
MAX_IMAGES = 30
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def notebook_problem(path: Path) -> str | None:
    """Why this notebook cannot be graded (a sentence naming the file), or None."""
    try:
        notebook = read_notebook(path)
    except ValueError as exc:
        return str(exc)
    if not any(cell.get("cell_type") == "code" for cell in notebook.get("cells", [])):
        return f"{path.name} has no code cells; submit the notebook you worked in"
    return None


def report_cells(path: Path, records: Sequence[Mapping[str, Any]]) -> tuple[NotebookCell, ...]:
    """The notebook's cells for the report, with how each went when graded."""
    try:
        notebook = read_notebook(path)
    except ValueError:
        return ()
    by_cell = {int(r["cell"]): r for r in records if isinstance(r, Mapping) and isinstance(r.get("cell"), int)}
    images = 0
    cells = []
    for index, cell in enumerate(notebook.cells, start=1):
        outputs = []
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            shown = _output(output, images < MAX_IMAGES)
            if shown is not None:
                images += shown[0] == "png"
                outputs.append(shown)
        record = by_cell.get(index, {})
        count = cell.get("execution_count") if cell.cell_type == "code" else None
        count = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None
        cells.append(
            NotebookCell(
                index,
                cell.cell_type,
                str(cell.source)[:MAX_CELL_CHARS],
                tuple(outputs),
                str(record.get("status", "")),
                str(record.get("error", ""))[:300],
                count,
            )
        )
    return tuple(cells)


def jupyter_wording(path: Path) -> Callable[[str], str]:
    """A function rewriting the worker's "nb.ipynb cell 7, line 4" places in a text the way
    Jupyter shows this notebook: "nb.ipynb, line 4 of code cell 6 (In [7]), the cell
    starting `class fcc:`". Texts are returned unchanged when the notebook cannot be read."""
    try:
        labels = cell_labels(read_notebook(path).cells)
    except ValueError:
        return lambda text: text
    return lambda text: _WORKER_PLACE.sub(lambda match: _place(match, labels), text)


def _place(match: re.Match[str], labels: Sequence[CellLabel]) -> str:
    index = int(match["cell"])
    if not 1 <= index <= len(labels):
        return match[0]
    label = labels[index - 1]
    line = f"line {match['line']} of " if match["line"] else ""
    return f"{match['notebook']}, {line}{label.describe()}"


def in_jupyter_terms(
    path: Path, checks: Sequence[CheckResult], error: str | None
) -> tuple[tuple[CheckResult, ...], str | None]:
    """`checks` and the load `error` with every notebook place worded as Jupyter shows it."""
    word = jupyter_wording(path)
    worded = tuple(
        replace(
            c,
            message=word(c.message),
            details=tuple(word(d) for d in c.details),
            location=word(c.location) if c.location else c.location,
        )
        for c in checks
    )
    return worded, word(error) if error else error


def _output(output: Mapping[str, Any], images_allowed: bool) -> tuple[str, str] | None:
    kind = output.get("output_type")
    if kind == "stream":
        return "text", _capped(str(output.get("text", "")))
    if kind == "error":
        return "text", f"{output.get('ename')}: {output.get('evalue')}"[:MAX_TEXT_OUTPUT]
    data = output.get("data", {}) if kind in ("execute_result", "display_data") else {}
    png = data.get("image/png")
    if images_allowed and isinstance(png, str) and _is_png(png):
        return "png", png.replace("\n", "")
    if "text/plain" in data:
        return "text", _capped(str(data["text/plain"]))
    return None


def _is_png(data: str) -> bool:
    if len(data) > MAX_IMAGE_BYTES * 4 // 3 + 8:
        return False
    try:
        return base64.b64decode(data[:16], validate=False).startswith(PNG_MAGIC)
    except ValueError:
        return False


def _capped(text: str) -> str:
    return head_and_tail(text, MAX_TEXT_OUTPUT)


def notebook_notes(path: Path, records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> tuple[str, ...]:
    """Sentences for the report: where graded names were defined, which cells failed."""
    notes = []
    try:
        notebook = read_notebook(path)
        where, labels = defined_names(notebook), cell_labels(notebook.cells)
    except ValueError:
        where, labels = {}, []

    def place(cell: object, joiner: str = " ({})") -> str:
        # Jupyter's words: "code cell 6 (In [7])", or "code cell 6, In [7]" inside parentheses
        index = cell if isinstance(cell, int) else 0
        if not 1 <= index <= len(labels):
            return f"cell {cell}"
        label = labels[index - 1]
        return label.place + (joiner.format(label.prompt) if label.prompt and label.prompt != label.place else "")

    found = [f"{name} ({place(where[name], ', {}')})" for name in names if name in where]
    if found:
        notes.append("graded definitions: " + ", ".join(found))
    for record in records:
        if isinstance(record, Mapping) and record.get("status") in ("error", "timeout"):
            what = "timed out" if record.get("status") == "timeout" else "raised"
            notes.append(
                f"{place(record.get('cell'))} {what}: {str(record.get('error', ''))[:200]} (execution went on)"
            )
    return tuple(notes)
