"""Where assignments live: the instructor's course folder, and the handouts shipped with grader.

A course folder is the instructor's own repository: it holds `reference/<assignment>/`
(the reference solution, `checks.py`, `probes.py`, `hidden_probes.py`). It is found, in
this order, by:

1. an explicit folder (`--course DIR`), or an explicit reference folder (`--reference DIR`,
   the older spelling, naming the `reference/` folder itself);
2. the `GRADER_COURSE` variable, or the older `GRADER_REFERENCE` (a reference folder);
3. walking up from the current folder to the first folder holding `reference/<x>/checks.py`.

The handout assignments (two_layer_net, fcc_sigmoid) ship inside the package
(`grader/_handouts/`, copied from the repository's `reference/` when the wheel is built),
so they are found with the wheel alone; a source checkout uses `reference/` itself. A
course's assignment of the same name wins over a handout.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "COURSE_VARIABLE",
    "EXAMPLE_ASSIGNMENT",
    "REFERENCE_VARIABLE",
    "assignment_folders",
    "course_reference",
    "find_course",
    "handouts_root",
    "init_course",
    "reference_roots",
]

COURSE_VARIABLE = "GRADER_COURSE"
REFERENCE_VARIABLE = "GRADER_REFERENCE"  # kept as an alias: names the reference folder itself
_CHECKS = "checks.py"
_PACKAGE = Path(__file__).resolve().parents[1]  # the installed `grader` package


def _holds_assignments(folder: Path) -> bool:
    return folder.is_dir() and any(child.joinpath(_CHECKS).is_file() for child in folder.iterdir())


def find_course(explicit: Path | None = None, start: Path | None = None) -> Path | None:
    """The course folder (holding `reference/`): `explicit`, $GRADER_COURSE, or the first
    folder at or above `start` (default: the current folder) holding assignments.

    An explicit folder or variable is returned even when it holds no assignment yet;
    None when nothing names or contains a course.
    """
    if explicit is not None:
        return explicit.resolve()
    if os.environ.get(COURSE_VARIABLE):
        return Path(os.environ[COURSE_VARIABLE]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _holds_assignments(folder / "reference"):
            return folder
    return None


def course_reference(course: Path | None = None, reference: Path | None = None) -> Path | None:
    """The course's reference folder: `reference` (or $GRADER_REFERENCE) when given, else
    `<course>/reference` of the course `find_course(course)` finds."""
    if reference is not None:
        return reference.resolve()
    if course is None and os.environ.get(REFERENCE_VARIABLE):
        return Path(os.environ[REFERENCE_VARIABLE]).resolve()
    found = find_course(course)
    return found / "reference" if found is not None else None


def handouts_root() -> Path | None:
    """The handout assignments shipped with grader: inside the installed package, or the
    repository's `reference/` in a source checkout (an editable install)."""
    for candidate in (_PACKAGE / "_handouts", _PACKAGE.parent / "reference"):
        if _holds_assignments(candidate):
            return candidate
    return None


def reference_roots(course: Path | None = None, reference: Path | None = None) -> list[Path]:
    """Folders holding `<assignment>/checks.py`, searched in this order: the course's, then
    the packaged handouts."""
    roots = [root for root in (course_reference(course, reference), handouts_root()) if root is not None]
    return list(dict.fromkeys(roots))


def assignment_folders(course: Path | None = None, reference: Path | None = None) -> dict[str, Path]:
    """Every assignment found, by name: the course's, and the handouts it does not override."""
    found: dict[str, Path] = {}
    for root in reference_roots(course, reference):
        if root.is_dir():
            for child in sorted(root.iterdir()):
                if child.joinpath(_CHECKS).is_file():
                    found.setdefault(child.name, child)
    return found


EXAMPLE_ASSIGNMENT = "two_layer_net"
_COURSE_README = """\
# {name}

A course folder for `grader` (pip package `nn-grader`). Each assignment is a folder
`reference/<assignment>/`: the reference solution (solution code between
`# BEGIN SOLUTION: <what to implement>` and `# END SOLUTION`), `checks.py` (the checks and
their points), `probes.py` (public probes) and `hidden_probes.py` (hidden probes).
`reference/{example}/` is an example to start from: it earns full marks as it stands.

    grader template {example}                       # writes student_template/{example}/ to hand out
    grader check student_template/{example}         # a student's view (fails until solved)
    grader grade SUBMISSIONS.zip -a {example}       # grades a batch; reports in reports/{example}/

Run these inside this folder (or anywhere with `--course {path}` or GRADER_COURSE={path}).
"""


def init_course(folder: Path, example: str = EXAMPLE_ASSIGNMENT) -> Path:
    """Write a new course folder holding one example assignment, copied from the packaged
    handouts; returns the example's folder. Refuses to touch an existing reference/."""
    import shutil

    from grader.errors import GraderError

    source = handouts_root()
    if source is None or not (source / example / _CHECKS).is_file():
        raise GraderError(f"the handout {example!r} is not installed with grader")
    target = folder / "reference" / example
    if (folder / "reference").exists():
        raise GraderError(f"{folder / 'reference'} already exists: choose a new folder")
    shutil.copytree(source / example, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    readme = folder / "README.md"
    if not readme.exists():
        text = _COURSE_README.format(name=folder.resolve().name, example=example, path=folder.resolve())
        readme.write_text(text, encoding="utf-8")
    return target
