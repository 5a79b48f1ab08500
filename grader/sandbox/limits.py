"""Resource limits for one worker: one field a limit, its default and its help side by side."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MiB", "Limits"]

MiB = 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one worker. Every default can be changed from the CLI."""

    memory_mb: int = 2048  # address space per process; below ~192 MiB OpenBLAS fails to start
    cpu_seconds: int = 300  # CPU time per worker process (SIGXCPU, then SIGKILL 1 s later)
    file_size_mb: int = 64  # largest file the worker may write
    open_files: int = 256
    processes: int = 64  # pids cgroup (root) or RLIMIT_NPROC (other users)
    tmp_mb: int = 256  # size of the private /tmp (the work copy lives there)
    output_kb: int = 64  # captured stdout/stderr kept (head and tail)
    results_mb: int = 64  # largest result stream accepted from one worker
    load_timeout: float = 60.0  # wall seconds to import the submission (or read a notebook's definitions)
    notebook_timeout: float = 300.0  # wall seconds to run a whole notebook in a kernel
    cell_timeout: float = 60.0  # wall seconds per notebook cell in a full run
    submission_timeout: float = 600.0  # wall seconds for all of a submission's checks
