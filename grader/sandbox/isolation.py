"""Which isolation a worker gets, and the command line that gives it.

* bwrap: the profile the README's "Security model" describes: user, PID, network, IPC and mount namespaces,
  uid 65534 with no capabilities, a read-only system and Python, sized tmpfs for /tmp and
  /dev/shm, only this submission's private copy (read-only), the probes and the data
  files mounted, nothing else of the host (no reference/, no other students, no output).
* limits-only: the same worker with resource limits, a clean environment and a fresh
  HOME; it says plainly what it cannot hold (see `Isolation.describe`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.errors import SandboxError
from grader.sandbox.cgroups import cgroup_controllers
from grader.sandbox.layout import JobLayout
from grader.sandbox.limits import Limits, MiB
from grader.sandbox.wire import SandboxPaths, WorkerLimits

__all__ = ["Isolation", "detect_isolation", "request_paths", "self_limits", "worker_command"]

SANDBOX_GRADER = "/run/grader"  # where the grader package is mounted inside bwrap
SANDBOX_SUBMISSION, SANDBOX_DATA, SANDBOX_PROBES = "/submission", "/data", "/probes"
SANDBOX_WORK = "/tmp/work"


@dataclass(frozen=True, slots=True)
class Isolation:
    """Which isolation is active, and why."""

    backend: Literal["bwrap", "limits-only"]
    reason: str
    cgroups: bool
    # the cgroup controllers each worker gets ("pids", "memory", "cpu"); empty without cgroups
    controllers: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.backend == "bwrap":
            base = "bubblewrap sandbox (no network, private filesystem and PIDs, uid 65534)"
        else:
            base = (
                "resource limits only: no bubblewrap, so student code can read files this user can read"
                " and may reach the network"
            )
        if self.cgroups:
            return base + f"; {'+'.join(self.controllers or ('pids', 'memory'))} cgroups per worker"
        return base + "; no cgroups (process count and RAM-backed files unbounded)"


@functools.lru_cache(maxsize=4)
def detect_isolation(prefer: str = "auto") -> Isolation:
    """Pick the backend: bwrap when it is installed and works here, else limits-only."""
    controllers = cgroup_controllers()
    cgroups = bool(controllers)
    if prefer == "limits-only":
        return Isolation("limits-only", "asked for with --isolation limits-only", cgroups, controllers)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        reason = "bubblewrap is not installed (apt-get install bubblewrap)"
    else:
        probe = subprocess.run(
            [bwrap, *_namespace_flags(), "--ro-bind", "/usr", "/usr", *_system_links(), "--", "/usr/bin/true"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if probe.returncode == 0:
            return Isolation("bwrap", f"{bwrap} works here", cgroups, controllers)
        reason = f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    if prefer == "bwrap":
        raise SandboxError(f"--isolation bwrap was asked for, but {reason}")
    return Isolation("limits-only", reason, cgroups, controllers)


def _namespace_flags() -> list[str]:
    return [
        "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
        "--cap-drop", "ALL", "--disable-userns", "--die-with-parent", "--new-session",
    ]  # fmt: skip


def _system_links() -> list[str]:
    args: list[str] = []
    for name in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _python_prefixes() -> list[str]:
    real_executable = Path(os.path.realpath(sys.executable))
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, str(real_executable.parents[1])}
    resolved = sorted({os.path.realpath(p) for p in candidates})
    # keep outermost folders only: binding a folder inside an already-bound one is wasted work
    return [p for p in resolved if not any(p != q and p.startswith(q + os.sep) for q in resolved)]


def _hidden_dataset_dirs() -> list[str]:
    """Folders of installed packages that ship the embedded datasets' labels.

    Held-out labels are the trusted side's secret; hiding the package's data files keeps
    a student from looking them up inside the sandbox.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return []
    data = Path(spec.origin).parent / "datasets" / "data"
    return [str(data)] if data.is_dir() else []


def _sandbox_env(home: str, grader_path: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "PYTHONPATH": grader_path,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        # Bytecode: the installed packages' own __pycache__ is read (a prefix would force every
        # worker to recompile numpy and matplotlib: 1.4 s instead of 0.5 s per start); a
        # planted .pyc cannot run, because only .py/.ipynb files are copied to the worker.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "LANG": "C.UTF-8",
    }


def _bwrap_command(layout: JobLayout, limits: Limits) -> tuple[list[str], dict[str, str]]:
    grader_package = str(Path(__file__).resolve().parents[1])  # grader/, not grader/sandbox/
    argv = ["bwrap", *_namespace_flags(), "--ro-bind", "/usr", "/usr", *_system_links()]
    argv += [
        "--ro-bind", grader_package, f"{SANDBOX_GRADER}/grader",
        "--proc", "/proc",
        "--dev", "/dev", "--remount-ro", "/dev",
        "--size", str(16 * MiB), "--tmpfs", "/dev/shm",
        "--size", str(limits.tmp_mb * MiB), "--tmpfs", "/tmp",
    ]  # fmt: skip
    # Mounts apply in order: Python goes after /tmp's tmpfs, or a venv under /tmp
    # (a common place for one) would be hidden by it.
    for prefix in _python_prefixes():
        argv += ["--ro-bind", prefix, prefix]
    for hidden in _hidden_dataset_dirs():
        argv += ["--tmpfs", hidden, "--remount-ro", hidden]
    argv += [
        "--ro-bind", str(layout.submission), SANDBOX_SUBMISSION,
        "--ro-bind", str(layout.data), SANDBOX_DATA,
        "--ro-bind", str(layout.probes), SANDBOX_PROBES,
        # bwrap's root is an unsized tmpfs (half the RAM) the sandbox user can write to;
        # only the sized /tmp and /dev/shm stay writable (remount-ro does not recurse).
        "--remount-ro", "/",
        "--chdir", "/tmp",
        "--clearenv",
    ]  # fmt: skip
    for key, value in _sandbox_env("/tmp", SANDBOX_GRADER).items():
        argv += ["--setenv", key, value]
    argv += ["--", sys.executable, "-s", "-m", "grader.worker"]
    return argv, {}


def _fallback_command(layout: JobLayout) -> tuple[list[str], dict[str, str]]:
    grader_parent = str(Path(__file__).resolve().parents[2])  # the folder holding grader/
    env = _sandbox_env(str(layout.root / "home"), grader_parent)
    return [sys.executable, "-s", "-m", "grader.worker"], env


def request_paths(layout: JobLayout, isolation: Isolation) -> SandboxPaths:
    """The job's folders as the worker sees them."""
    if isolation.backend == "bwrap":
        return SandboxPaths(SANDBOX_SUBMISSION, SANDBOX_WORK, SANDBOX_DATA, SANDBOX_PROBES)
    return SandboxPaths(str(layout.submission), str(layout.root / "work"), str(layout.data), str(layout.probes))


def self_limits(limits: Limits) -> WorkerLimits:
    """The rlimits the worker sets on itself."""
    # RLIMIT_NPROC counts per real uid: useless for root (README, "Security model"), and for
    # another user it must leave room for that user's own processes.
    nproc = None if os.geteuid() == 0 else limits.processes + _process_count()
    return WorkerLimits(
        address_space=limits.memory_mb * MiB,
        cpu_seconds=limits.cpu_seconds,
        file_size=limits.file_size_mb * MiB,
        open_files=limits.open_files,
        processes=nproc,
    )


def _process_count() -> int:
    uid = os.getuid()
    return sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid)


def _owner(path: Path) -> int:
    try:
        return path.stat().st_uid
    except OSError:
        return -1


def worker_command(layout: JobLayout, limits: Limits, isolation: Isolation) -> tuple[list[str], dict[str, str]]:
    """The worker's command line and environment (empty: bwrap sets its own) for a backend."""
    if isolation.backend == "bwrap":
        return _bwrap_command(layout, limits)
    return _fallback_command(layout)
