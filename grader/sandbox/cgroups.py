"""Per-worker cgroups (v1, as on this project's machine kind; v2 hierarchies are not handled).

RLIMIT_NPROC does nothing for uid 0 and memfd/tmpfs memory escapes RLIMIT_AS (README,
"Security model"): when root can create them, each worker gets a pids, a memory and (when
writable) a cpu cgroup, and everything in them is killed at the end.

A worker's cgroups are named `grader/<pid>-<random>` after the grading process that made
them, so that the cgroups a killed run left behind (no `finally` ran) are found and removed
at the next start-up: only those whose owning process is dead.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.limits import Limits, MiB
from grader.sandbox.owners import pid_alive

__all__ = ["Cgroup", "cgroup_controllers", "cgroups_available", "remove_stale_cgroups"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
REQUIRED = ("pids", "memory")
OPTIONAL = ("cpu",)
_PARENT = "grader"
_swept = threading.Lock()
_sweep_done = False


def cgroups_available() -> bool:
    """Whether this process can give each worker its own pids and memory cgroups."""
    return os.geteuid() == 0 and all(os.access(CGROUP_ROOT / c, os.W_OK) for c in REQUIRED)


def cgroup_controllers() -> tuple[str, ...]:
    """The controllers each worker gets here (empty: none), in the order they are used."""
    if not cgroups_available():
        return ()
    return (*REQUIRED, *(c for c in OPTIONAL if os.access(CGROUP_ROOT / c, os.W_OK)))


def remove_stale_cgroups() -> list[str]:
    """Kill what is left in, and remove, the worker cgroups of grading processes that are
    dead (a run killed before its `finally`); returns their names. Never touches a cgroup
    whose owner is alive, or one not named by this module."""
    removed = []
    for controller in cgroup_controllers():
        parent = CGROUP_ROOT / controller / _PARENT
        for folder in sorted(parent.iterdir()) if parent.is_dir() else []:
            owner, marked, _ = folder.name.partition("-")
            if not marked or not owner.isdigit() or pid_alive(int(owner)):
                continue
            stale = Cgroup([folder])
            stale.kill_all()
            stale.remove()
            removed.append(f"{controller}/{_PARENT}/{folder.name}")
    return removed


def _sweep_once() -> None:
    global _sweep_done
    with _swept:
        if not _sweep_done:
            _sweep_done = True
            with suppress(OSError):
                remove_stale_cgroups()


@dataclass(slots=True)
class Cgroup:
    """One worker's cgroups (pids first, memory second when both exist)."""

    paths: list[Path]

    @classmethod
    def create(cls, limits: Limits) -> Cgroup:
        """New cgroups for one worker, limited by `limits`; nothing is left if this fails."""
        _sweep_once()
        name = f"{_PARENT}/{os.getpid()}-{uuid.uuid4().hex[:12]}"
        group = cls([])
        try:
            for controller in cgroup_controllers():
                path = CGROUP_ROOT / controller / name
                path.mkdir(parents=True)
                group.paths.append(path)
                _configure(controller, path, limits)
        except BaseException:
            group.remove()
            raise
        return group

    def add(self, pid: int) -> None:
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        control = next((p / "memory.oom_control" for p in self.paths if (p / "memory.oom_control").exists()), None)
        text = control.read_text() if control is not None else ""
        return "oom_kill" in text and "oom_kill 0" not in text

    def kill_all(self) -> None:
        if not self.paths:
            return
        procs = self.paths[0] / "cgroup.procs"
        for _ in range(50):
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        for path in self.paths:
            # a cgroup whose last process is still exiting refuses rmdir for a moment
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _configure(controller: str, path: Path, limits: Limits) -> None:
    if controller == "pids":
        (path / "pids.max").write_text(str(limits.processes))
    elif controller == "memory":
        # Everything the worker can hold in RAM: its heap, its /tmp and /dev/shm pages,
        # memfds, and a notebook kernel it starts (a child, in the same cgroup).
        budget = (limits.memory_mb + limits.tmp_mb + 64) * MiB
        (path / "memory.limit_in_bytes").write_text(str(budget))
    elif controller == "cpu":
        # At most one CPU for all of the worker's processes: a fork bomb whose children each
        # start a session (a scheduling autogroup of their own) otherwise starved the
        # submissions graded beside it (an honest one ran 7x slower, measured).
        (path / "cpu.cfs_period_us").write_text("100000")
        (path / "cpu.cfs_quota_us").write_text("100000")
