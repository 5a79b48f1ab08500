"""Expected values: the reference seen as a submission, its observations checked, and their cache.

The reference is observed by the same path as students (`grader.course.reference`
runs it); what it returns is what students are compared against. Results are cached on
disk, keyed by a hash of the reference folder, the grader's own code and the batch seed,
so a second batch with the same seed does not rerun the reference.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from grader.assignment import HARNESS_FILES, Assignment, Check
from grader.errors import AssignmentError
from grader.intake.discovery import Submission, discover
from grader.judge.diagnosis import MISTAKES_DIR
from grader.judge.expectations import Observed
from grader.results import CheckResult
from grader.sandbox.wire import Frame, Invalid

__all__ = ["cache_file", "default_cache_dir", "load_cached", "reference_submission", "save_cached", "validated", "values_key"]


def default_cache_dir() -> Path:
    if os.environ.get("GRADER_CACHE"):
        return Path(os.environ["GRADER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader"


def reference_submission(assignment: Assignment) -> Submission:
    """The reference folder seen as a submission (without the harness's own files)."""
    found = discover(assignment.folder, assignment.entry, assignment.folder)
    submission = found[0]
    if len(found) != 1 or submission.error is not None:
        raise AssignmentError.in_file(assignment.folder, f"the reference holds no gradable {assignment.entry}: {submission.error}")
    # the known mistakes (mistakes/*.py) are the grader's, not part of the reference's code
    files = tuple(f for f in submission.files if f not in HARNESS_FILES and not f.startswith(f"{MISTAKES_DIR}/"))
    return replace(submission, id="reference", files=files)


def validated(check: Check, frames: Mapping[str, Frame], failures: Mapping[str, CheckResult], assignment: Assignment) -> dict[str, np.ndarray]:
    """The reference's arrays for `check`; raises `AssignmentError` when the reference failed it."""
    if check.name in failures:
        raise AssignmentError.in_file(assignment.folder, f"the reference fails check {check.name!r}: {failures[check.name].message}")
    frame = frames[check.name]
    if frame.header.get("status") != "ok":
        error = frame.header.get("error") or {}
        raise AssignmentError.in_file(assignment.folder, f"the reference raised in check {check.name!r}: {error}")
    arrays = {}
    for key, value in frame.arrays.items():
        if isinstance(value, Invalid):
            raise AssignmentError.in_file(assignment.folder, f"probe {check.probe_name!r} returned {value.describe()} for {key!r} on the reference: probes must return numbers or arrays")
        arrays[key] = value
    return arrays


def cache_file(cache_dir: Path, assignment: Assignment, checks: tuple[Check, ...], seed: int, kind: str = "") -> Path:
    """Where these checks' expected values for this seed are cached (`kind` "mistakes":
    the known mistakes' observations; the key covers mistakes/ with the whole folder)."""
    return cache_dir / f"{assignment.name}-{kind + '-' if kind else ''}{values_key(assignment, checks, seed)}.npz"


def values_key(assignment: Assignment, checks: tuple[Check, ...], seed: int) -> str:
    """A hash of what the expected values depend on: the reference folder, the grader's code,
    the checks and the seed (the cache's key; resumed batches compare it too)."""
    digest = hashlib.sha256(f"{seed}|{sorted(c.name for c in checks)}".encode())
    # the whole grader package (this file is in grader/judge/): any code change refreshes the cache
    roots = [(assignment.folder, "*"), (Path(__file__).parents[1], "*.py")]
    for root, pattern in roots:
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".ipynb", ".json"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def save_cached(path: Path, expected: dict[str, Observed]) -> None:
    """Write `expected` atomically (a concurrent batch never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {f"{check}::{key}": value for check, arrays in expected.items() for key, value in arrays.items()}
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(temporary, **flat)  # type: ignore[arg-type]
    os.replace(temporary, path)


def load_cached(path: Path) -> dict[str, Observed]:
    """The expected values `save_cached` wrote."""
    expected: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as data:
        for name in data.files:
            check, key = name.split("::", 1)
            expected.setdefault(check, {})[key] = data[name]
    return dict(expected)
