"""Gradescope as a host: the autograder zip, and results.json in Gradescope's format.

`build_autograder` writes the zip an instructor uploads ("Configure Autograder"). Per
Gradescope's specification (gradescope-autograders.readthedocs.io, "Autograder
Specifications") it holds at its root:

    setup.sh          run once when Gradescope builds the image: Python, a virtualenv with
                      the grader's dependencies, and bubblewrap where the image allows it
    run_autograder    run per submission in /autograder: grades /autograder/submission/
                      and writes /autograder/results/results.json
    grader.json       which assignment, and the seed of its hidden checks
    requirements.txt  the grader's own dependencies
    lib/grader/       the grader package itself
    reference/NAME/   the assignment: checks, probes, data preparation, reference solution

setup.sh prefers Python 3.11 (what the grader is developed on) and falls back to the
image's python3 (3.10 or later is required).
Students never see the zip. Before a student's code runs, the runner keeps only the probe
files and deletes the reference folder (see gradescope_runner.py), because without
bubblewrap the student's code runs as the same user as the grader.

results.json itself is written by `grader.outputs.gradescope_json`.
"""

from __future__ import annotations

import importlib.metadata
import json
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path

import grader
from grader.course.assignments import load_assignment
from grader.outputs.gradebook_rows import atomic_path

__all__ = ["CONFIG_FILE", "build_autograder"]

CONFIG_FILE = "grader.json"
_DISTRIBUTIONS = ("nn-grader", "grader")  # the distribution's name, new and old
_SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache"}

SETUP_SH = """#!/usr/bin/env bash
# Written by `grader gradescope build`. Gradescope runs it once, as root, when it builds
# the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
# the grader is developed on Python 3.11; older images (Ubuntu 22.04: 3.10) get it if apt can
apt-get install -y --no-install-recommends python3.11 python3.11-venv || true
python="$(command -v python3.11 || command -v python3)"
# bubblewrap isolates each student's code; where the image cannot create namespaces the
# grader falls back to resource limits only, and says so in every result.
apt-get install -y --no-install-recommends bubblewrap || echo "bubblewrap could not be installed"
"$python" -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Written by `grader gradescope build`. Gradescope copies it to /autograder/run_autograder
# and runs it for each submission. GRADER_AUTOGRADER_ROOT (default /autograder) and
# GRADER_PYTHON override the paths, to try it on a copy of Gradescope's layout.
set -u
root="${GRADER_AUTOGRADER_ROOT:-/autograder}"
python="${GRADER_PYTHON:-$root/venv/bin/python}"
[ -x "$python" ] || python=python3
export PYTHONPATH="$root/source/lib"
cd "$root"
exec "$python" -m grader.course.gradescope_runner --root "$root"
"""


def build_autograder(
    assignment_name: str, out: Path, reference_root: Path | None = None, seed: int | None = None
) -> Path:
    """Write Gradescope's autograder zip for the assignment to `out` and return `out`.

    `seed` draws the hidden checks' inputs for every submission (default: a fresh one,
    recorded in grader.json). Raises `AssignmentError` when the assignment is unknown or
    invalid, OSError when `out` cannot be written.
    """
    assignment = load_assignment(assignment_name, reference_root)
    config = {"assignment": assignment.name, "seed": seed if seed is not None else secrets.randbelow(2**31)}
    package = Path(grader.__file__).resolve().parent
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(archive, "setup.sh", SETUP_SH, executable=True)
        _add_text(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add_text(archive, CONFIG_FILE, json.dumps(config, indent=2) + "\n")
        _add_text(archive, "requirements.txt", "\n".join(_requirements()) + "\n")
        for path in _files(package):
            archive.write(path, f"lib/grader/{path.relative_to(package).as_posix()}")
        for path in _files(assignment.folder):
            archive.write(path, f"reference/{assignment.name}/{path.relative_to(assignment.folder).as_posix()}")
    return out


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, text)


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        parts = set(path.relative_to(folder).parts)
        if path.is_file() and not path.is_symlink() and not parts & _SKIPPED and path.suffix != ".pyc":
            yield path


def _requirements() -> list[str]:
    """The grader's own dependencies, as its installed metadata declares them (no extras)."""
    for name in _DISTRIBUTIONS:
        try:
            declared = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        return [r for r in declared if "extra ==" not in r]
    raise RuntimeError("the grader's distribution metadata is missing; install it with pip install -e .")
