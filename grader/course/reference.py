"""Observe the reference to learn the expected values (or read them from the cache)."""

from __future__ import annotations

from pathlib import Path

from grader.assignment import Check
from grader.course.context import RunSettings
from grader.course.observe import observe
from grader.errors import AssignmentError
from grader.judge.expectations import Observed
from grader.judge.reference_values import (
    cache_file,
    load_cached,
    reference_submission,
    save_cached,
    validated,
)

__all__ = ["reference_observations"]


def reference_observations(run: RunSettings, selected: tuple[Check, ...], cache_dir: Path | None) -> dict[str, Observed]:
    """Observations of every selected check that compares against the reference.

    Raises `AssignmentError` when the reference itself fails a probe: the assignment,
    not a student, must be fixed.
    """
    assignment = run.assignment
    checks = tuple(c for c in selected if c.expect.needs_reference)
    if not checks:
        return {}
    cache = cache_file(cache_dir, assignment, checks, run.seed) if cache_dir else None
    cached = load_cached(cache) if cache is not None and cache.is_file() else None
    if cached is not None:  # None also when the entry's MAC does not verify: recompute
        return cached
    observation = observe(reference_submission(assignment), run, checks)
    if observation.load_error is not None:
        raise AssignmentError.in_file(assignment.folder, f"the reference failed to load: {observation.load_error.message}")
    expected: dict[str, Observed] = {}
    for check in checks:
        expected[check.name] = validated(check, observation.frames, observation.failures, assignment)
    if cache is not None:
        save_cached(cache, expected)
    return expected
