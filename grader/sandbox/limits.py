"""Resource limits for one worker: each declared once, with its default and its help.

The CLI builds one `--flag` per field from this declaration (`limit_options`), so a new
limit is a new field here and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Limits", "MiB", "limit_help"]

MiB = 1 << 20


def _limit(default: Any, help: str) -> Any:
    """A field with its help text beside its default (read by the CLI)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one worker. Every default can be changed from the CLI."""

    # below ~192 MiB OpenBLAS fails to start
    memory_mb: int = _limit(2048, "Address-space limit per worker process, MiB.")
    cpu_seconds: int = _limit(300, "CPU time per worker process (SIGXCPU, then SIGKILL 1 s later).")
    file_size_mb: int = _limit(64, "Largest file the worker may write, MiB.")
    open_files: int = _limit(256, "Open files per worker process.")
    processes: int = _limit(64, "Processes per worker (pids cgroup as root, else RLIMIT_NPROC).")
    tmp_mb: int = _limit(256, "Size of the worker's private /tmp (where the work copy lives), MiB.")
    output_kb: int = _limit(64, "Captured stdout/stderr kept per worker (head and tail), KiB.")
    results_mb: int = _limit(64, "Largest result stream accepted from one worker, MiB.")
    load_timeout: float = _limit(60.0, "Wall seconds to import the submission (or read a notebook's definitions).")
    notebook_timeout: float = _limit(300.0, "Wall seconds to run a whole notebook in a kernel.")
    cell_timeout: float = _limit(60.0, "Wall seconds per notebook cell in a full run.")
    submission_timeout: float = _limit(600.0, "Wall seconds for all checks of one submission.")


def limit_help() -> list[tuple[str, type, Any, str]]:
    """(field name, type, default, help) of every limit, in declaration order."""
    types = {"int": int, "float": float}
    return [(f.name, types[str(f.type)], f.default, str(f.metadata["help"])) for f in fields(Limits)]
