"""Host folders: a grading run's work folder, and the folders prepared for one worker.

A run's work folder is named `grader-run-<pid>-<random>` after the grading process that
made it. It is removed when the run ends (`finally`), and one that a killed run left
behind (its owner is dead) is removed when the next run starts; a folder whose owner is
alive, or that this module did not name, is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.owners import pid_alive

__all__ = ["JobLayout", "remove_stale_work_folders", "work_folder"]

_PREFIX = "grader-run-"
_OWNED = re.compile(rf"{re.escape(_PREFIX)}(\d+)-")


@dataclass(frozen=True, slots=True)
class JobLayout:
    """Host folders prepared for one worker (all private to this job)."""

    root: Path
    # a batch-wide data folder, mounted read-only (bubblewrap only); else a private copy
    shared_data: Path | None = None

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def data(self) -> Path:
        return self.shared_data or self.root / "data"

    @property
    def probes(self) -> Path:
        return self.root / "probes"

    @classmethod
    def create(cls, parent: Path, shared_data: Path | None = None) -> JobLayout:
        layout = cls(parent / f"job-{uuid.uuid4().hex[:12]}", shared_data)
        for folder in (layout.submission, layout.data, layout.probes, layout.root / "home"):
            folder.mkdir(parents=True, exist_ok=True)
        return layout


def remove_stale_work_folders(parent: Path | None = None) -> list[Path]:
    """Remove the work folders in `parent` (default: the temporary folder) whose owning
    grading process is dead; returns them."""
    folder = Path(parent or tempfile.gettempdir())
    removed = []
    for entry in folder.iterdir() if folder.is_dir() else []:
        match = _OWNED.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not pid_alive(int(match[1])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextmanager
def work_folder() -> Iterator[Path]:
    """A fresh work folder for one grading run, named after this process and removed at
    the end, whatever happens; the folders of dead runs are removed first."""
    remove_stale_work_folders()
    path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
