"""What a student template tells the student beyond the handout: how to install the grader
and check one's work (the Markdown cell that opens each notebook, the comment block that
opens the entry file), and the data file a notebook loads (`grader data <assignment>`).

An assignment whose notebook loads a data file provides `write_student_data(folder)` in its
data.py, returning the files written; this module finds and calls it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.course.assignments import load_assignment
from grader.errors import TemplateError

__all__ = ["comment_header", "student_header", "write_student_data"]

DATA_MODULE = "data.py"
DATA_HOOK = "write_student_data"


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
        (
            f"**{assignment.title}: student template.** Write your code in place of each `# TODO` block and keep "
            "every name and signature: the grader calls them by name."
        ),
        "",
        (
            "**Check your work as you go.** Install the grader once with `pip install nn-grader`, then run "
            "`grader check` in this assignment's folder (the one holding `grader_selfcheck/`), or this in a cell "
            "(save the notebook first: the saved file is checked):"
        ),
        "",
        "```python",
        "import grader",
        f'grader.check()                  # or grader.check("{first}") for one check',
        "```",
        "",
        f"The checks, in the order of the handout: {_check_names(assignment)}."
        + (f" Only public checks run here; {hidden} run when your work is graded." if hidden else ""),
    ]
    if data_hook(assignment) is not None:
        lines += [
            "",
            (
                f"**Data.** This notebook loads its data from a file: run `grader data {assignment.name}` in "
                "this folder once to write it (handwritten digits that come with the grader, in the handout's layout)."
            ),
        ]
    return lines


def comment_header(assignment: Assignment) -> list[str]:
    """The same, as the comment block that opens the template's entry file."""
    first = assignment.public_checks[0].name if assignment.public_checks else "NAME"
    hidden = _hidden(assignment)
    lines = [
        f"{assignment.title}: student template.",
        'Write your code in place of each "# TODO" block; keep every name and signature (the grader calls them).',
        "",
        "Check your work as you go"
        + (f" (public checks only; {hidden} run when your work is graded):" if hidden else ":"),
        *(
            f"    {command.ljust(max(33, len(first) + 24))}  # {why}"
            for command, why in (
                ("pip install nn-grader", "once"),
                ("grader check", "in this assignment's folder (the one holding grader_selfcheck/)"),
                (f"grader check --check {first}", "one check"),
            )
        ),
        "In a notebook cell: import grader; grader.check()   (save the notebook first: the saved file is checked)",
        "",
        f"The checks, in the order of the handout: {_check_names(assignment)}.",
    ]
    if data_hook(assignment) is not None:
        lines.append(f"The notebook's data file: run `grader data {assignment.name}` in this folder once.")
    return [f"# {line}".rstrip() for line in lines] + [""]


def data_hook(assignment: Assignment) -> Any:
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
    hook = data_hook(assignment)
    if hook is None:
        raise TemplateError(f"{name} needs no data file: its notebook loads its data itself")
    out.mkdir(parents=True, exist_ok=True)
    return [Path(p) for p in hook(out)]
