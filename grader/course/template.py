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
`grader data <assignment>` calls it (grader/course/student_help.py). Output is deterministic:
running it twice changes nothing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tokenize
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from grader.assignment import HARNESS_FILES, PUBLIC_PROBES, Assignment, Check
from grader.course.assignments import load_assignment
from grader.course.student_help import comment_header, student_header
from grader.errors import TemplateError
from grader.worker.notebook import python_only

__all__ = [
    "SELFCHECK_DIR",
    "read_by_judge",
    "selfcheck_differences",
    "strip_solutions",
    "student_file",
    "write_template",
]

SELFCHECK_DIR = "grader_selfcheck"
SELFCHECK_FILE = "checks.json"
_BEGIN = re.compile(r"^#\s*BEGIN SOLUTION\b:?\s*(?P<what>.*)$")
_END = re.compile(r"^#\s*END SOLUTION\b")
_STARTER = re.compile(r"^#\s*STARTER:\s?(?P<what>.*)$")
_BEGIN_INSTRUCTOR = re.compile(r"^#\s*BEGIN INSTRUCTOR\b")
_END_INSTRUCTOR = re.compile(r"^#\s*END INSTRUCTOR\b")
_SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints", "mistakes"})  # mistakes/: the grader's known mistakes
_MARKERS = (
    ("begin", _BEGIN),
    ("end", _END),
    ("starter", _STARTER),
    ("begin instructor", _BEGIN_INSTRUCTOR),
    ("end instructor", _END_INSTRUCTOR),
)


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
                    found.append(
                        (token.start[0], kind, text.strip() or "implement this part" if kind == "begin" else text)
                    )
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
                    raise TemplateError.at(
                        path, line_no, f"BEGIN SOLUTION inside the block opened at line {block.line}"
                    )
                raise TemplateError(
                    f"{path}:{line_no}: a block inside the block opened at line {block.line}; blocks never nest"
                )
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
            if (
                block.kind == "instructor"
                and not block.starter
                and _blank(lines, cursor)
                and (not output or not output[-1].strip())
            ):
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


def student_file(assignment: Assignment, path: Path, keep: Collection[int] = ()) -> str:
    """The template's text of the reference file `path`: solution blocks as TODO blocks
    (except those numbered in `keep`), instructor text left out, and the header that says
    how to check one's work at the top of the entry file and of every notebook."""
    relative = path.relative_to(assignment.folder).as_posix()
    if path.suffix == ".ipynb":
        return _strip_notebook(path, relative, assignment, keep)
    text = strip_solutions(path.read_text(encoding="utf-8"), relative, keep)
    if path.name == assignment.entry:
        text = "\n".join(comment_header(assignment)) + "\n" + text
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


class _Recording(dict[str, Any]):
    """A reference observation that notes which keys a judge reads."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            self.read.add(key)
        return super().get(key, default)


def read_by_judge(check: Check, values: dict[str, Any]) -> dict[str, Any]:
    """The part of the reference's observation that the check's judge reads.

    Found by judging the reference's observation against itself: the self-check file then
    holds only values that are compared (a probe may also send values that only the
    student's side of a comparison uses, e.g. a numerical gradient). If the judge fails
    here, everything is kept.
    """
    reference = _Recording(values)
    try:
        check.expect.judge(values, reference, {}, True)
    except Exception:  # noqa: BLE001 - any failure of an author's judge means: keep everything
        return values
    return {k: v for k, v in values.items() if k in reference.read}


def _tolerance(expect: dict[str, Any]) -> tuple[float, float]:
    """(relative, absolute) tolerance the grader applies to reference values of this kind."""
    if expect.get("kind") == "all_of":
        parts = [_tolerance(p) for p in expect.get("parts", [])]
        return (min((r for r, _ in parts), default=0.0), min((a for _, a in parts), default=0.0))
    if expect.get("kind") == "gradients_agree":
        return (float(expect["rel_error"]), 0.0)
    if expect.get("kind") == "matches_reference" and not expect.get("exact"):
        if expect.get("rel") is not None:
            return (float(expect["rel"]), 0.0)
        return (0.0, float(expect.get("max_abs") or expect.get("sum_abs") or 0.0))
    return (0.0, 0.0)


def selfcheck_differences(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """Where two self-check specs differ: expected values beyond the tolerance the grader
    applies to them (BLAS builds differ in the last bits), anything else at all."""
    problems = [
        f"{key} differs" for key in sorted(set(new) | set(old)) if key != "checks" and new.get(key) != old.get(key)
    ]
    new_checks, old_checks = new.get("checks", []), old.get("checks", [])
    if [c.get("name") for c in new_checks] != [c.get("name") for c in old_checks]:
        return [*problems, "the public checks differ"]
    for a, b in zip(new_checks, old_checks):
        name = a.get("name")
        problems += [
            f"{name}: {key} differs"
            for key in sorted(set(a) | set(b))
            if key != "expected" and a.get(key) != b.get(key)
        ]
        if sorted(a.get("expected", {})) != sorted(b.get("expected", {})):
            problems.append(f"{name}: the expected values' names differ")
            continue
        rel, abs_ = _tolerance(a.get("expect", {}))
        for key, value in a["expected"].items():
            other = b["expected"][key]
            if (value["dtype"], value["shape"]) != (other["dtype"], other["shape"]):
                problems.append(f"{name}: {key}: dtype or shape differs")
            elif not np.allclose(
                np.asarray(value["data"]), np.asarray(other["data"]), rtol=rel, atol=abs_, equal_nan=True
            ):
                problems.append(f"{name}: {key} differs beyond the grader's tolerance (rel {rel:g}, abs {abs_:g})")
    return problems


def selfcheck_spec(assignment: Assignment, expected: dict[str, Any]) -> dict[str, Any]:
    """The JSON students' `grader check` reads: public checks and the expected values they compare."""
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
                "expected": {k: _array_json(v) for k, v in sorted(read_by_judge(c, expected.get(c.name, {})).items())},
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
