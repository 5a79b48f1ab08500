"""Who owns a temporary folder or a cgroup: a tag of the owning process's pid and start time.

A grader killed with SIGKILL runs no `finally`: its temporary folders, cgroups and worker
processes stay behind. Each of them carries the owner's tag in its name, so the next run
can remove exactly those whose owner is dead, and never one of a run still going (another
batch on the same machine). The start time tells a live owner from a new process that the
kernel gave the same pid.
"""

from __future__ import annotations

import os
import re
import signal
from contextlib import suppress
from pathlib import Path

__all__ = ["find_tag", "kill_processes_under", "owner_alive", "owner_tag", "pid_alive"]

PROC = Path("/proc")
# `<pid>-<start>-...`, or `<pid>-...` for names made without the start time
_TAG = re.compile(r"([0-9]+)-(?:([0-9]+)-)?")


def _start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), or None if it does not exist."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19])  # field 22 overall


def owner_tag(pid: int | None = None) -> str:
    """`<pid>-<start time>` of `pid` (default: this process); `<pid>-0` without /proc."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{_start_time(pid) or 0}"


def find_tag(name: str, prefix: str) -> str | None:
    """The owner tag in a name made as `prefix + owner_tag() + "-" + ...` (None: not ours);
    a name holding only the pid (`prefix + "<pid>-" + ...`) gives `<pid>-0`."""
    if not name.startswith(prefix):
        return None
    match = _TAG.match(name, len(prefix))
    return f"{match.group(1)}-{match.group(2) or 0}" if match else None


def owner_alive(tag: str) -> bool:
    """Whether the process a tag names is still running (the same process, not a reused pid;
    without a start time, any process of that pid counts as the owner)."""
    pid_text, start_text = tag.split("-", 1)
    pid, start = int(pid_text), int(start_text)
    if not PROC.is_dir() or start == 0:
        return pid_alive(pid)
    return _start_time(pid) == start


def pid_alive(pid: int) -> bool:
    """Whether a process of that pid exists (one of another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_processes_under(folder: Path) -> int:
    """SIGKILL every process whose working folder lies in `folder`; return how many.

    A worker runs in its job folder inside the run's temporary folder, so a worker orphaned
    by a killed run is found by its working folder, whatever it has become since.
    """
    if not PROC.is_dir():
        return 0
    root = os.path.realpath(folder)
    killed = 0
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            with suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed
