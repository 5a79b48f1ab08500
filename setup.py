"""Builds the wheel with the handout assignments inside: reference/ -> grader/_handouts/.

The repository keeps one copy of each handout (reference/<assignment>/); a wheel carries
them as package data so `grader` works with the wheel alone. Editable installs find the
repository's reference/ instead (grader.course.locate.handouts_root).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HANDOUTS = Path(__file__).resolve().parent / "reference"


class BuildWithHandouts(build_py):  # type: ignore[misc]  # setuptools ships no type information
    """build_py that also copies reference/ into the built package as grader/_handouts/."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False) or not HANDOUTS.is_dir():
            return
        target = Path(self.build_lib) / "grader" / "_handouts"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(HANDOUTS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))


setup(cmdclass={"build_py": BuildWithHandouts})
