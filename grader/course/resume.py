"""Resuming a batch: `results.jsonl` as an append-only log, and which submissions need grading.

Each row carries a `resume_key`: a hash of the submission's key and files and of the run's
key (the assignment's expected-values key, the seed and the options that change a score).
Running the same command again grades only the submissions without a row of the same key:
new students, changed files, rows a killed run never finished. The log is only ever
appended to while a batch runs, and rewritten (atomically) once it is complete, so an
interrupted run's log holds the previous run's rows and the new ones, every line whole
but perhaps the last (which is ignored, and that submission graded again).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from grader.course.context import BatchContext
from grader.errors import GraderError
from grader.intake.discovery import Submission
from grader.judge.reference_values import values_key

__all__ = [
    "KEY_FIELD",
    "Plan",
    "ResultsLog",
    "atomic_write_text",
    "exclusive",
    "plan_batch",
    "run_key",
    "submission_key",
]

KEY_FIELD = "resume_key"
LOCK_FILE = ".grader.lock"


@contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for one run at a time (two runs appending to one log would
    interleave). The kernel drops the lock when its process dies, killed or not.

    Raises `GraderError` when another run holds it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / LOCK_FILE).open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            raise GraderError(
                f"{out_dir}: another `grader grade` ({owner}) is writing to this folder; wait for it to finish or pass another -o"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader sees the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class ResultsLog:
    """`results.jsonl`: one JSON row per finished submission, later rows replacing earlier ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict[str, Any]] = {}
        self._handle: IO[str] | None = None
        torn = self._read()
        if torn:
            # a line a killed run did not finish: drop it before appending after it
            self.rewrite(self.rows.values())

    def _read(self) -> bool:
        """Load every whole row; True when a line was not one (torn, or not JSON)."""
        if not self.path.is_file():
            return False
        torn = False
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                row = _parse(line)
                if row is None:
                    torn = torn or bool(line.strip())
                    continue
                self.rows[str(row["submission"])] = row
        return torn

    def append(self, row: dict[str, Any]) -> None:
        """Append one row, flushed: a kill after this returns keeps it."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(row, sort_keys=True) + "\n")
        self._handle.flush()
        self.rows[str(row["submission"])] = row

    def rewrite(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the log by `rows`, sorted by submission, in one atomic step."""
        self.close()
        ordered = sorted(rows, key=lambda r: (str(r["submission"]).casefold(), str(r["submission"])))
        atomic_write_text(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in ordered))
        self.rows = {str(r["submission"]): r for r in ordered}

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _parse(line: str) -> dict[str, Any] | None:
    if not line.endswith("\n"):
        return None  # the last line of a killed run: perhaps cut mid-row
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) and isinstance(row.get("submission"), str) else None


def run_key(context: BatchContext, isolation: str, extra: Mapping[str, Any] | None = None) -> str:
    """What every row of a run depends on besides the submission itself: the assignment's
    expected-values key (reference, checks, grader code, seed), the limits, the isolation
    (as asked for and in effect), the notebook mode, and `extra` options that change a score."""
    checks = context.selected
    parts = {
        "assignment": context.assignment.name,
        "values": values_key(context.assignment, checks, context.seed),
        "seed": context.seed,
        "data_seed": context.data_seed,
        "limits": asdict(context.limits),
        "isolation": isolation,
        "notebook_mode": context.notebook_mode,
        "extra": dict(extra or {}),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def submission_key(submission: Submission, run: str) -> str:
    """The resume key of one submission's row: its key, its files' names and bytes, and `run`."""
    # every field but paths (where the files lie today: a fresh temporary folder each run):
    # the key, the entry, why it cannot be graded, and whatever intake adds
    described = {
        f.name: getattr(submission, f.name)
        for f in fields(submission)
        if not isinstance(getattr(submission, f.name), Path)
    }
    digest = hashlib.sha256(json.dumps([run, described], sort_keys=True, default=str).encode())
    if submission.root is not None:
        for rel in sorted(submission.files):
            digest.update(b"\0" + rel.encode() + b"\0")
            digest.update(hashlib.sha256((submission.root / rel).read_bytes()).digest())
    return digest.hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run grades and what it keeps."""

    todo: tuple[Submission, ...]
    keys: Mapping[str, str]  # submission id -> resume key, for every submission found
    kept: Mapping[str, dict[str, Any]]  # rows of earlier runs that stay as they are
    dropped: tuple[str, ...] = ()  # earlier rows of submissions no longer in the input
    found: int = 0

    def describe(self) -> str:
        """One line for the terminal."""
        resumed = len(self.kept)
        if not resumed:
            return f"{self.found} submissions found; grading {len(self.todo)}"
        return f"{self.found} submissions found; {resumed} already graded and unchanged; grading {len(self.todo)}"


def plan_batch(
    submissions: list[Submission], log: ResultsLog, run: str, force: bool = False, only: str | None = None
) -> Plan:
    """Which submissions to grade: those without an up-to-date row (all with `force`),
    or the one `only` names (raises `LookupError` naming close matches when none does)."""
    keys = {s.id: submission_key(s, run) for s in submissions}
    found = {s.id for s in submissions}
    if only is not None:
        chosen = [s for s in submissions if s.id == only] or [
            s for s in submissions if s.id.casefold() == only.casefold()
        ]
        if not chosen:
            raise LookupError(only)
        kept = {sid: row for sid, row in log.rows.items() if sid != chosen[0].id}
        return Plan(tuple(chosen), keys, kept, (), len(submissions))
    fresh = {
        sid: row for sid, row in log.rows.items() if sid in found and not force and row.get(KEY_FIELD) == keys[sid]
    }
    todo = tuple(s for s in submissions if s.id not in fresh)
    dropped = tuple(sorted(sid for sid in log.rows if sid not in found))
    return Plan(todo, keys, fresh, dropped, len(submissions))
