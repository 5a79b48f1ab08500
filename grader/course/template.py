"""Generate `student_template/<assignment>/` from `reference/<assignment>/`.

Solution blocks become TODO blocks; everything else is copied as it is. Markers are
comments (found with `tokenize`, so a docstring that quotes them is left alone):

    # BEGIN SOLUTION: <what the student must implement>
    ... solution lines ...
    # END SOLUTION

become, at the BEGIN line's indentation:

    # TODO: <what the student must implement>
    raise NotImplementedError('<what the student must implement>')

Notebooks get the same treatment cell by cell, with outputs cleared. Beside the files,
`grader_selfcheck/` holds the public probes and the public checks' expected values, so
students can run `grader check` without the reference. Output is deterministic: running
it twice changes nothing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tokenize
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from grader.assignment import HARNESS_FILES, PUBLIC_PROBES, Assignment
from grader.course.assignments import load_assignment
from grader.errors import TemplateError
from grader.worker.notebook import python_only

__all__ = ["SELFCHECK_DIR", "strip_solutions", "write_template"]

SELFCHECK_DIR = "grader_selfcheck"
SELFCHECK_FILE = "checks.json"
_BEGIN = re.compile(r"^#\s*BEGIN SOLUTION\b:?\s*(?P<what>.*)$")
_END = re.compile(r"^#\s*END SOLUTION\b")
_SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})


def _marker_comments(source: str, path: str) -> list[tuple[int, str, str]]:
    """(line, 'begin'|'end', description) of every marker comment, in order."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(python_only(source)).readline):
            if token.type != tokenize.COMMENT:
                continue
            if begin := _BEGIN.match(token.string):
                found.append((token.start[0], "begin", begin.group("what").strip() or "implement this part"))
            elif _END.match(token.string):
                found.append((token.start[0], "end", ""))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise TemplateError(f"{path}: cannot be tokenized ({exc}); fix the reference source") from None
    return found


def strip_solutions(source: str, path: str) -> str:
    """Replace every solution block of `source` with a TODO block.

    Raises `TemplateError` naming the file and line of an unbalanced or nested marker.
    """
    lines = source.split("\n")
    output: list[str] = []
    cursor = 1
    open_at: tuple[int, str] | None = None
    for line_no, kind, what in _marker_comments(source, path):
        if kind == "begin":
            if open_at is not None:
                raise TemplateError.at(path, line_no, f"BEGIN SOLUTION inside the block opened at line {open_at[0]}")
            open_at = (line_no, what)
            continue
        if open_at is None:
            raise TemplateError.at(path, line_no, "END SOLUTION without a BEGIN SOLUTION")
        begin_line, description = open_at
        output += lines[cursor - 1 : begin_line - 1]
        indent = lines[begin_line - 1][: len(lines[begin_line - 1]) - len(lines[begin_line - 1].lstrip())]
        output += [f"{indent}# TODO: {description}", f"{indent}raise NotImplementedError({description!r})"]
        cursor = line_no + 1
        open_at = None
    if open_at is not None:
        raise TemplateError.at(path, open_at[0], "BEGIN SOLUTION is never closed")
    output += lines[cursor - 1 :]
    return "\n".join(output)


def _strip_notebook(path: Path, relative: str) -> str:
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{relative} (cell {index + 1})")
            cell.outputs = []
            cell.execution_count = None
    text: str = nbformat.writes(notebook)  # type: ignore[no-untyped-call]
    return text + "\n"


def _copy_tree(assignment: Assignment, target: Path) -> None:
    for path in sorted(assignment.folder.rglob("*")):
        relative = path.relative_to(assignment.folder)
        if not path.is_file() or set(relative.parts) & _SKIPPED_PARTS or relative.as_posix() in HARNESS_FILES:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py":
            destination.write_text(strip_solutions(path.read_text(encoding="utf-8"), relative.as_posix()), encoding="utf-8")
        elif path.suffix == ".ipynb":
            destination.write_text(_strip_notebook(path, relative.as_posix()), encoding="utf-8")
        else:
            shutil.copyfile(path, destination)


def _array_json(value: np.ndarray) -> dict[str, Any]:
    # Floats go through repr(), which round-trips exactly.
    return {"dtype": value.dtype.name, "shape": list(value.shape), "data": value.reshape(-1).tolist()}


def selfcheck_spec(assignment: Assignment, expected: dict[str, Any]) -> dict[str, Any]:
    """The JSON students' `grader check` reads: public checks and their expected values."""
    hidden = [c for c in assignment.checks if not c.public]
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "entry": assignment.entry,
        "names": list(assignment.names),
        "hidden": {"count": len(hidden), "points": sum(c.points for c in hidden)},
        "checks": [
            {
                "name": c.name,
                "points": c.points,
                "advice": c.advice,
                "timeout": c.timeout,
                "description": c.description,
                "probe": c.probe_name,
                "expect": c.expect.to_json(),
                "expected": {k: _array_json(v) for k, v in sorted(expected.get(c.name, {}).items())},
            }
            for c in assignment.public_checks
        ],
    }


def write_template(name: str, out: Path, reference_root: Path | None = None) -> Path:
    """Write `out/<name>/` from the reference; returns the folder written."""
    from grader.course.batch import GradeOptions, prepared_context

    assignment = load_assignment(name, reference_root)
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _copy_tree(assignment, target)
    # verify: the reference must earn full marks before its values are published
    options = GradeOptions(seed=0, reports=False)
    with prepared_context(assignment, options, checks=assignment.public_checks, verify=True) as context:
        expected = {k: dict(v) for k, v in context.expected.items()}
    selfcheck = target / SELFCHECK_DIR
    selfcheck.mkdir()
    shutil.copyfile(assignment.folder / PUBLIC_PROBES, selfcheck / PUBLIC_PROBES)
    spec = selfcheck_spec(assignment, expected)
    (selfcheck / SELFCHECK_FILE).write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target
