"""Trusted side of notebook submissions: validate before running, describe after.

Reading a notebook here parses untrusted JSON (nbformat: `json` plus a schema), never
executes it. Outputs shown in reports are the student's own saved outputs, capped: text
and PNG images only (HTML and JavaScript outputs are shown as text, never rendered).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.outputs.text import head_and_tail
from grader.results import NotebookCell
from grader.worker.notebook import defined_names, read_notebook

__all__ = ["notebook_notes", "notebook_problem", "report_cells"]

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
        cells.append(NotebookCell(index, cell.cell_type, str(cell.source)[:MAX_CELL_CHARS], tuple(outputs), str(record.get("status", "")), str(record.get("error", ""))[:300]))
    return tuple(cells)


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
        where = defined_names(read_notebook(path))
    except ValueError:
        where = {}
    found = [f"{name} (cell {where[name]})" for name in names if name in where]
    if found:
        notes.append("graded definitions: " + ", ".join(found))
    for record in records:
        if isinstance(record, Mapping) and record.get("status") in ("error", "timeout"):
            notes.append(f"cell {record.get('cell')} {'timed out' if record.get('status') == 'timeout' else 'raised'}: {str(record.get('error', ''))[:200]} (execution went on)")
    return tuple(notes)
