"""`grader doctor`: which isolation is active on this machine, and why."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys

from grader.sandbox.isolation import detect_isolation
from grader.sandbox.limits import Limits

__all__ = ["diagnose"]


def diagnose() -> list[str]:
    """Lines describing the interpreter, the sandbox backend, cgroups and the limits."""
    isolation = detect_isolation("auto")
    lines = [
        f"python: {sys.version.split()[0]} ({sys.executable})",
        f"platform: {platform.system()} {platform.release()}",
        f"bubblewrap: {_bwrap_version()}",
        f"isolation: {isolation.backend} ({isolation.reason})",
        f"  {isolation.describe()}",
    ]
    if isolation.cgroups:
        controllers = ", ".join(isolation.controllers)
        lines.append(f"  cgroups per worker: {controllers} (under /sys/fs/cgroup/<controller>/grader/)")
        if "cpu" not in isolation.controllers:
            lines.append("  no writable cpu cgroup: a fork bomb may slow the submissions graded beside it")
    else:
        lines.append(
            "  no writable pids/memory cgroups (run as root on cgroup v1 to get them): a fork bomb is bounded only"
            " by RLIMIT_NPROC (which does nothing for root), and memory in /dev/shm or memfd only by file-size limits"
        )
    if isolation.backend != "bwrap":
        lines.append(
            "  install bubblewrap (apt-get install bubblewrap) for namespaces: no network, private files and PIDs"
        )
    limits = Limits()
    lines.append(
        f"default limits: {limits.memory_mb} MiB address space, {limits.cpu_seconds} s CPU, {limits.file_size_mb} MiB per file,"
        f" {limits.open_files} open files, {limits.processes} processes, {limits.tmp_mb} MiB /tmp,"
        f" {limits.submission_timeout:g} s per submission"
    )
    return lines


def _bwrap_version() -> str:
    path = shutil.which("bwrap")
    if path is None:
        return "not installed"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    return f"{done.stdout.strip() or done.stderr.strip()} at {path}"
