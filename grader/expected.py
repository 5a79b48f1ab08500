"""Expected values: the reference's own observations, from the same probes and worker.

The reference is graded by the same path as students (`grading.observe`); what it
returns is what students are compared against. Results are cached on disk, keyed by a
hash of the reference folder, the grader's own code and the batch seed, so a second
batch with the same seed does not rerun the reference.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from grader.checks import HARNESS_FILES, Assignment, Check
from grader.errors import AssignmentError
from grader.expect import Observed
from grader.grading import BatchContext, Observation, observe
from grader.submissions import Submission, discover
from grader.wire import Invalid

__all__ = ["default_cache_dir", "reference_observations", "reference_submission"]


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
    files = tuple(f for f in submission.files if f not in HARNESS_FILES)
    return replace(submission, id="reference", files=files)


def reference_observations(context: BatchContext, cache_dir: Path | None) -> dict[str, Observed]:
    """Observations of every selected check that compares against the reference.

    Raises `AssignmentError` when the reference itself fails a probe: the assignment,
    not a student, must be fixed.
    """
    assignment = context.assignment
    checks = tuple(c for c in context.selected if c.expect.needs_reference)
    if not checks:
        return {}
    cache = (cache_dir / f"{assignment.name}-{_key(assignment, checks, context.seed)}.npz") if cache_dir else None
    if cache is not None and cache.is_file():
        return _load(cache)
    observation = observe(reference_submission(assignment), context, checks)
    if observation.load_error is not None:
        raise AssignmentError.in_file(assignment.folder, f"the reference failed to load: {observation.load_error.message}")
    expected: dict[str, Observed] = {}
    for check in checks:
        expected[check.name] = _validated(check, observation, assignment)
    if cache is not None:
        _save(cache, expected)
    return expected


def _validated(check: Check, observation: Observation, assignment: Assignment) -> dict[str, np.ndarray]:
    if check.name in observation.failures:
        raise AssignmentError.in_file(assignment.folder, f"the reference fails check {check.name!r}: {observation.failures[check.name].message}")
    frame = observation.frames[check.name]
    if frame.header.get("status") != "ok":
        error = frame.header.get("error") or {}
        raise AssignmentError.in_file(assignment.folder, f"the reference raised in check {check.name!r}: {error}")
    arrays = {}
    for key, value in frame.arrays.items():
        if isinstance(value, Invalid):
            raise AssignmentError.in_file(assignment.folder, f"probe {check.probe_name!r} returned {value.describe()} for {key!r} on the reference: probes must return numbers or arrays")
        arrays[key] = value
    return arrays


def _key(assignment: Assignment, checks: tuple[Check, ...], seed: int) -> str:
    digest = hashlib.sha256(f"{seed}|{sorted(c.name for c in checks)}".encode())
    roots = [(assignment.folder, "*"), (Path(__file__).parent, "*.py")]
    for root, pattern in roots:
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".ipynb", ".json"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _save(path: Path, expected: dict[str, Observed]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {f"{check}::{key}": value for check, arrays in expected.items() for key, value in arrays.items()}
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(temporary, **flat)  # type: ignore[arg-type]
    os.replace(temporary, path)


def _load(path: Path) -> dict[str, Observed]:
    expected: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as data:
        for name in data.files:
            check, key = name.split("::", 1)
            expected.setdefault(check, {})[key] = data[name]
    return dict(expected)
