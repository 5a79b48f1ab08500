"""Temporary folders named after their owner, and the removal of those a killed run left.

Every folder a run creates for itself (its work folder under the system's temporary folder,
`grader.sandbox.layout.work_folder`; its staging folders inside the output folder and a
remote task's folder, `owned_folder`) is named `grader-run-<pid>-...` after the process that
owns it (`grader.sandbox.owners`), and so are its workers' cgroups (`grader.sandbox.cgroups`).
`clean_stale_runs`, called when a batch starts, removes exactly those whose owner is dead: a
run still going on the same machine keeps everything.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.cgroups import remove_stale_cgroups
from grader.sandbox.owners import find_tag, kill_processes_under, owner_alive, owner_tag

__all__ = ["RUN_PREFIX", "Cleaned", "clean_stale_runs", "owned_folder"]

RUN_PREFIX = "grader-run-"


@dataclass(frozen=True, slots=True)
class Cleaned:
    """What `clean_stale_runs` removed."""

    folders: int = 0
    processes: int = 0
    cgroups: int = 0

    def describe(self) -> str:
        """One line for the terminal ("" when nothing was left behind)."""
        if not (self.folders or self.processes or self.cgroups):
            return ""
        counts = ((self.folders, "temporary folder"), (self.processes, "process"), (self.cgroups, "cgroup"))
        said = ", ".join(
            f"{n} {what}{'es' if what == 'process' and n != 1 else 's' if n != 1 else ''}" for n, what in counts if n
        )
        return f"cleaned up after an interrupted run: {said}"


@contextmanager
def owned_folder(parent: Path | None = None, hidden: bool = False) -> Iterator[Path]:
    """A fresh folder named after this process, removed on exit (or by the next run's
    `clean_stale_runs` if this process is killed first)."""
    prefix = ("." if hidden else "") + f"{RUN_PREFIX}{owner_tag()}-"
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_runs(*places: Path) -> Cleaned:
    """Remove what runs killed before they could clean up left behind.

    Looks in the system's temporary folder and in `places` (output folders) for folders
    of dead owners: kills the worker processes still running in them (a worker without
    cgroups outlives its grader), then removes them; then kills what is left in the dead
    runs' worker cgroups and removes those (`grader.sandbox.cgroups`).
    """
    folders = processes = 0
    for parent in (Path(tempfile.gettempdir()), *places):
        for folder in _stale_folders(parent):
            processes += kill_processes_under(folder)
            shutil.rmtree(folder, ignore_errors=True)
            folders += not folder.exists()
    try:
        cgroups = len(remove_stale_cgroups())
    except OSError:  # a cgroup hierarchy that changed under us: the next run tries again
        cgroups = 0
    return Cleaned(folders, processes, cgroups)


def _stale_folders(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    stale = []
    for path in parent.iterdir():
        tag = find_tag(path.name.lstrip("."), RUN_PREFIX)
        if tag is not None and path.is_dir() and not path.is_symlink() and not owner_alive(tag):
            stale.append(path)
    return sorted(stale)
