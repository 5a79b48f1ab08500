"""Generate `student_template/<assignment>/` from `reference/<assignment>/`.

Solution blocks become TODO blocks; everything else is copied as it is. Markers are
comments (found with `tokenize`, so a docstring that quotes them is left alone):

    # BEGIN SOLUTION: <what the student must implement>
    ... solution lines ...
    # END SOLUTION

become, at the BEGIN line's indentation:

    # TODO: <what the student must implement>
    raise NotImplementedError('<what the student must implement>')

A block whose later code should keep running before the student has written it (cs231n's
backward pass leaves `grads = {}` so that the loss can be checked first) says what the
template holds instead of the `raise`, in `# STARTER: <line>` comments inside the block:

    grads = {}
    # BEGIN SOLUTION: store the gradients in grads
    # STARTER: pass
    ... solution lines ...
    # END SOLUTION

becomes `# TODO: store the gradients in grads` and `pass`. Text for the instructor only
sits between `# BEGIN INSTRUCTOR` and `# END INSTRUCTOR` and never reaches the template
(its `# STARTER:` lines, if any, stand in its place). Blocks never nest.

Notebooks get the same treatment cell by cell, with outputs cleared. The entry file and
every notebook start with how to install the grader and check one's work (`STUDENT_HEADER`).
Beside the files, `grader_selfcheck/` holds the public probes and the public checks'
expected values, so students can run `grader check` without the reference. An assignment
whose notebook loads a data file provides `write_student_data(folder)` in its data.py;
`grader data <assignment>` calls it (`write_student_data` here). Output is deterministic:
running it twice changes nothing.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import sys
import tokenize
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from grader.assignment import HARNESS_FILES, PUBLIC_PROBES, Assignment
from grader.course.assignments import load_assignment
from grader.errors import TemplateError
from grader.worker.notebook import python_only

__all__ = ["SELFCHECK_DIR", "strip_solutions", "student_file", "write_student_data", "write_template"]

SELFCHECK_DIR = "grader_selfcheck"
SELFCHECK_FILE = "checks.json"
DATA_MODULE = "data.py"
DATA_HOOK = "write_student_data"
_BEGIN = re.compile(r"^#\s*BEGIN SOLUTION\b:?\s*(?P<what>.*)$")
_END = re.compile(r"^#\s*END SOLUTION\b")
_STARTER = re.compile(r"^#\s*STARTER:\s?(?P<what>.*)$")
_BEGIN_INSTRUCTOR = re.compile(r"^#\s*BEGIN INSTRUCTOR\b")
_END_INSTRUCTOR = re.compile(r"^#\s*END INSTRUCTOR\b")
_SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})
_MARKERS = (("begin", _BEGIN), ("end", _END), ("starter", _STARTER), ("begin instructor", _BEGIN_INSTRUCTOR), ("end instructor", _END_INSTRUCTOR))


def _marker_comments(source: str, path: str) -> list[tuple[int, str, str]]:
    """(line, kind, text) of every marker comment, in order; kind is one of `_MARKERS`."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(python_only(source)).readline):
            if token.type != tokenize.COMMENT:
                continue
            for kind, pattern in _MARKERS:
                if match := pattern.match(token.string):
                    text = match.groupdict().get("what") or ""
                    found.append((token.start[0], kind, text.strip() or "implement this part" if kind == "begin" else text))
                    break
    except (tokenize.TokenError, SyntaxError) as exc:
        raise TemplateError(f"{path}: cannot be tokenized ({exc}); fix the reference source") from None
    return found


@dataclass
class _Block:
    line: int
    kind: str  # "solution" or "instructor"
    what: str
    starter: list[str] = field(default_factory=list)


def strip_solutions(source: str, path: str, keep: Collection[int] = (), first: int = 0) -> str:
    """Replace every solution block of `source` with a TODO block and drop instructor blocks.

    Solution blocks are numbered from `first` in the order they appear; those numbered in
    `keep` stay solved (markers removed), so a test can walk the template through the
    handout one part at a time. Raises `TemplateError` naming the file and line of an
    unbalanced or nested marker, or of a STARTER line outside a block.
    """
    lines = source.split("\n")
    output: list[str] = []
    cursor = 1
    block: _Block | None = None
    number = first
    for line_no, kind, text in _marker_comments(source, path):
        if kind in ("begin", "begin instructor"):
            if block is not None:
                if kind == "begin" and block.kind == "solution":
                    raise TemplateError.at(path, line_no, f"BEGIN SOLUTION inside the block opened at line {block.line}")
                raise TemplateError(f"{path}:{line_no}: a block inside the block opened at line {block.line}; blocks never nest")
            block = _Block(line_no, "solution" if kind == "begin" else "instructor", text)
        elif kind == "starter":
            if block is None:
                raise TemplateError(f"{path}:{line_no}: STARTER outside a SOLUTION or INSTRUCTOR block")
            block.starter.append(text)
        else:
            wanted = "solution" if kind == "end" else "instructor"
            if block is None or block.kind != wanted:
                if kind == "end":
                    raise TemplateError.at(path, line_no, "END SOLUTION without a BEGIN SOLUTION")
                raise TemplateError(f"{path}:{line_no}: END INSTRUCTOR without a BEGIN INSTRUCTOR")
            output += lines[cursor - 1 : block.line - 1]
            solved = block.kind == "solution" and number in keep
            if solved:
                output += [line for line in lines[block.line : line_no - 1] if not _STARTER.match(line.strip())]
            else:
                output += _replacement(block, lines[block.line - 1])
            number += block.kind == "solution"
            cursor = line_no + 1
            if block.kind == "instructor" and not block.starter and _blank(lines, cursor) and (not output or not output[-1].strip()):
                cursor += 1  # no blank line left behind where the instructor's text was
            block = None
    if block is not None:
        if block.kind == "solution":
            raise TemplateError.at(path, block.line, "BEGIN SOLUTION is never closed")
        raise TemplateError(f"{path}:{block.line}: BEGIN INSTRUCTOR is never closed")
    output += lines[cursor - 1 :]
    return "\n".join(output)


def _replacement(block: _Block, begin_line: str) -> list[str]:
    indent = begin_line[: len(begin_line) - len(begin_line.lstrip())]
    if block.kind == "instructor":
        return [f"{indent}{line}" for line in block.starter]
    body = block.starter or [f"raise NotImplementedError({block.what!r})"]
    return [f"{indent}# TODO: {block.what}", *(f"{indent}{line}" for line in body)]


def _blank(lines: list[str], number: int) -> bool:
    return 1 <= number <= len(lines) and not lines[number - 1].strip()


def solution_blocks(source: str, path: str) -> list[str]:
    """The description of every solution block of `source`, in order."""
    return [text for _, kind, text in _marker_comments(source, path) if kind == "begin"]


# ---------------------------------------------------------------- what a student is told


def _check_names(assignment: Assignment) -> str:
    return ", ".join(c.name for c in assignment.public_checks if not c.advice)


def _hidden(assignment: Assignment) -> str:
    hidden = [c for c in assignment.checks if not c.public]
    return f"{len(hidden)} hidden checks worth {sum(c.points for c in hidden):g} more points" if hidden else ""


def student_header(assignment: Assignment) -> list[str]:
    """How to install the grader and check one's work, as the Markdown cell that opens
    each of the template's notebooks."""
    first = assignment.public_checks[0].name if assignment.public_checks else "NAME"
    hidden = _hidden(assignment)
    lines = [
        (f"**{assignment.title}: student template.** Write your code in place of each `# TODO` block and keep "
         "every name and signature: the grader calls them by name."),
        "",
        ("**Check your work as you go.** Install the grader once with `pip install nn-grader`, then run "
         "`grader check` in this assignment's folder (the one holding `grader_selfcheck/`), or this in a cell "
         "(save the notebook first: the saved file is checked):"),
        "",
        "```python",
        "import grader",
        f'grader.check()                  # or grader.check("{first}") for one check',
        "```",
        "",
        f"The checks, in the order of the handout: {_check_names(assignment)}."
        + (f" Only public checks run here; {hidden} run when your work is graded." if hidden else ""),
    ]
    if _data_hook(assignment) is not None:
        lines += ["", (f"**Data.** This notebook loads its data from a file: run `grader data {assignment.name}` in "
                       "this folder once to write it (handwritten digits that come with the grader, in the handout's layout).")]
    return lines


def _comment_header(assignment: Assignment) -> list[str]:
    """The same, as the comment block that opens the template's entry file."""
    first = assignment.public_checks[0].name if assignment.public_checks else "NAME"
    hidden = _hidden(assignment)
    lines = [
        f"{assignment.title}: student template.",
        'Write your code in place of each "# TODO" block; keep every name and signature (the grader calls them).',
        "",
        "Check your work as you go" + (f" (public checks only; {hidden} run when your work is graded):" if hidden else ":"),
        *(f"    {command.ljust(max(33, len(first) + 24))}  # {why}" for command, why in (
            ("pip install nn-grader", "once"),
            ("grader check", "in this assignment's folder (the one holding grader_selfcheck/)"),
            (f"grader check --check {first}", "one check"),
        )),
        "In a notebook cell: import grader; grader.check()   (save the notebook first: the saved file is checked)",
        "",
        f"The checks, in the order of the handout: {_check_names(assignment)}.",
    ]
    if _data_hook(assignment) is not None:
        lines.append(f"The notebook's data file: run `grader data {assignment.name}` in this folder once.")
    return [f"# {line}".rstrip() for line in lines] + [""]


def student_file(assignment: Assignment, path: Path, keep: Collection[int] = ()) -> str:
    """The template's text of the reference file `path`: solution blocks as TODO blocks
    (except those numbered in `keep`), instructor text left out, and the header that says
    how to check one's work at the top of the entry file and of every notebook."""
    relative = path.relative_to(assignment.folder).as_posix()
    if path.suffix == ".ipynb":
        return _strip_notebook(path, relative, assignment, keep)
    text = strip_solutions(path.read_text(encoding="utf-8"), relative, keep)
    if path.name == assignment.entry:
        text = "\n".join(_comment_header(assignment)) + "\n" + text
    return text


def _strip_notebook(path: Path, relative: str, assignment: Assignment, keep: Collection[int]) -> str:
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    number = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            where = f"{relative} (cell {index + 1})"
            original = cell.source
            cell.source = strip_solutions(original, where, keep, number)
            number += len(solution_blocks(original, where))
            cell.outputs = []
            cell.execution_count = None
    header = nbformat.v4.new_markdown_cell("\n".join(student_header(assignment)))  # type: ignore[no-untyped-call]
    header.id = "grader-student-header"  # fixed: the template must not change from run to run
    notebook.cells.insert(0, header)
    text: str = nbformat.writes(notebook)  # type: ignore[no-untyped-call]
    return text + "\n"


def _copy_tree(assignment: Assignment, target: Path) -> None:
    for path in sorted(assignment.folder.rglob("*")):
        relative = path.relative_to(assignment.folder)
        if not path.is_file() or set(relative.parts) & _SKIPPED_PARTS or relative.as_posix() in HARNESS_FILES:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".py", ".ipynb"):
            destination.write_text(student_file(assignment, path), encoding="utf-8")
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


def _data_hook(assignment: Assignment) -> Any:
    """The assignment's `write_student_data(folder)` from its data.py, or None."""
    module_path = assignment.folder / DATA_MODULE
    if not module_path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_grader_student_data_{assignment.name}", module_path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(module_path.parent))  # data.py may import its neighbours, as checks.py does
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(module_path.parent))
    return getattr(module, DATA_HOOK, None)


def write_student_data(name: str, out: Path, reference_root: Path | None = None) -> list[Path]:
    """Write the data files the notebook of assignment `name` loads into `out`; returns them.

    Raises `TemplateError` when the assignment's notebook needs no data file.
    """
    assignment = load_assignment(name, reference_root)
    hook = _data_hook(assignment)
    if hook is None:
        raise TemplateError(f"{name} needs no data file: its notebook loads its data itself")
    out.mkdir(parents=True, exist_ok=True)
    return [Path(p) for p in hook(out)]
