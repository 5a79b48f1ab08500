"""Per-worker cgroups (v1, as on this project's machine kind; v2 hierarchies are not handled).

RLIMIT_NPROC does nothing for uid 0 and memfd/tmpfs memory escapes RLIMIT_AS (SANDBOX.md
traps 2 and 4): when root can create them, each worker gets a pids, a memory and a cpu
cgroup, and everything in them is killed at the end.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.limits import Limits, MiB
from grader.sandbox.owners import find_tag, owner_alive, owner_tag

__all__ = ["Cgroup", "cgroups_available", "remove_stale_cgroups"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "grader"
CONTROLLERS = ("pids", "memory", "cpu")
# a worker's cgroup is named after its owner (grader.sandbox.owners), so that the next run
# can remove the ones a killed run left behind: grader/w-<pid>-<start>-<random>
_PREFIX = "w-"


def cgroups_available() -> bool:
    return os.geteuid() == 0 and all(os.access(CGROUP_ROOT / c, os.W_OK) for c in ("pids", "memory"))


@dataclass(slots=True)
class Cgroup:
    paths: list[Path]

    @classmethod
    def create(cls, limits: Limits) -> Cgroup:
        name = f"{CGROUP_PARENT}/{_PREFIX}{owner_tag()}-{uuid.uuid4().hex[:12]}"
        pids, memory = CGROUP_ROOT / "pids" / name, CGROUP_ROOT / "memory" / name
        pids.mkdir(parents=True)
        memory.mkdir(parents=True)
        (pids / "pids.max").write_text(str(limits.processes))
        # Everything the worker can hold in RAM: its heap, its /tmp and /dev/shm pages, memfds.
        budget = (limits.memory_mb + limits.tmp_mb + 64) * MiB
        (memory / "memory.limit_in_bytes").write_text(str(budget))
        paths = [pids, memory]
        # At most one CPU for all of the worker's processes: a fork bomb whose children each
        # start a session (a scheduling autogroup of their own) otherwise starved the
        # submissions graded beside it (an honest one ran 7x slower, measured).
        if os.access(CGROUP_ROOT / "cpu", os.W_OK):
            cpu = CGROUP_ROOT / "cpu" / name
            cpu.mkdir(parents=True)
            (cpu / "cpu.cfs_period_us").write_text("100000")
            (cpu / "cpu.cfs_quota_us").write_text("100000")
            paths.append(cpu)
        return cls(paths)

    def add(self, pid: int) -> None:
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        control = self.paths[1] / "memory.oom_control"
        text = control.read_text() if control.exists() else ""
        return "oom_kill" in text and "oom_kill 0" not in text

    def kill_all(self) -> None:
        procs = self.paths[0] / "cgroup.procs"
        for _ in range(50):
            pids = [int(p) for p in procs.read_text().split()]
            if not pids:
                return
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        for path in self.paths:
            with suppress(OSError):
                path.rmdir()


def remove_stale_cgroups() -> int:
    """Kill what is left in, and remove, the worker cgroups of runs whose owner is dead.

    Cgroups of live runs (another batch on this machine) and any not named by
    `Cgroup.create` are left alone. Returns how many cgroups were removed.
    """
    removed = 0
    for controller in CONTROLLERS:
        parent = CGROUP_ROOT / controller / CGROUP_PARENT
        if not os.access(parent, os.W_OK):
            continue
        for path in sorted(parent.iterdir()):
            tag = find_tag(path.name, _PREFIX)
            if not path.is_dir() or tag is None or owner_alive(tag):
                continue
            stale = Cgroup([path])
            with suppress(OSError):
                stale.kill_all()
            stale.remove()
            removed += not path.exists()
    return removed
