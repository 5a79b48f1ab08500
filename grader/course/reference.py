"""Observe the reference to learn the expected values (or read them from the cache), and
the assignment's known mistakes (variants of the reference) to diagnose failed checks."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from grader.assignment import Assignment, Check
from grader.course.context import RunSettings
from grader.course.observe import observe
from grader.errors import AssignmentError
from grader.judge.diagnosis import KnownMistakes, Mistake, load_mistakes, patched_entry, variant_checks
from grader.judge.display import split_display
from grader.judge.expectations import Observed
from grader.judge.reference_values import (
    cache_file,
    load_cached,
    reference_submission,
    save_cached,
    validated,
)
from grader.sandbox.wire import Invalid

__all__ = ["known_mistakes", "reference_observations", "reference_runs"]

_PAIR = "@"  # joins a mistake id and a check name in the cache's keys (neither holds it)


def reference_observations(
    run: RunSettings, selected: tuple[Check, ...], cache_dir: Path | None
) -> dict[str, Observed]:
    """Observations of every selected check that compares against the reference.

    Raises `AssignmentError` when the reference itself fails a probe: the assignment,
    not a student, must be fixed.
    """
    return reference_runs(run, selected, cache_dir)[0]


def reference_runs(
    run: RunSettings, selected: tuple[Check, ...], cache_dir: Path | None
) -> tuple[dict[str, Observed], dict[str, Observed]]:
    """(expected values, display values) of the reference.

    Expected values: every selected check that compares against the reference, without
    display keys. Display values: what the probes of the public checks sent for pictures
    (the reference's loss curve beside the student's); hidden checks' are never shown.
    """
    assignment = run.assignment
    checks = tuple(c for c in selected if c.expect.needs_reference or c.public)
    if not checks:
        return {}, {}
    cache = cache_file(cache_dir, assignment, checks, run.seed) if cache_dir else None
    # None also when the entry's MAC does not verify: the reference is observed again
    cached = load_cached(cache) if cache is not None and cache.is_file() else None
    if cached is not None:
        observed = cached
    else:
        observation = observe(reference_submission(assignment), run, checks)
        if observation.load_error is not None:
            raise AssignmentError.in_file(
                assignment.folder, f"the reference failed to load: {observation.load_error.message}"
            )
        observed = {
            check.name: validated(check, observation.frames, observation.failures, assignment) for check in checks
        }
        if cache is not None:
            save_cached(cache, observed)
    expected: dict[str, Observed] = {}
    displays: dict[str, Observed] = {}
    for check in checks:
        judged, shown = split_display(observed.get(check.name, {}))
        if check.expect.needs_reference:
            expected[check.name] = judged
        if check.public and shown:
            displays[check.name] = shown
    return expected, displays


def known_mistakes(run: RunSettings, selected: tuple[Check, ...], cache_dir: Path | None) -> KnownMistakes:
    """The assignment's known mistakes and each variant's observations of the checks it
    concerns, observed once through the same path as the reference (and cached)."""
    assignment = run.assignment
    mistakes = load_mistakes(assignment.folder)
    variants = [(m, variant_checks(m, selected)) for m in mistakes if m.is_variant]
    variants = [(m, checks) for m, checks in variants if checks]
    if not variants:
        return KnownMistakes(mistakes)
    cache = cache_file(cache_dir, assignment, selected, run.seed, kind="mistakes") if cache_dir else None
    cached = load_cached(cache) if cache is not None and cache.is_file() else None
    flat: dict[str, Observed]
    if cached is not None:
        flat = cached
    else:
        flat = {}
        # one worker per variant at a time, as many at once as the machine has cores
        with ThreadPoolExecutor(
            max_workers=max(1, min(len(variants), os.cpu_count() or 1)), thread_name_prefix="mistake"
        ) as pool:
            runs = [
                (mistake, pool.submit(_observe_variant, assignment, run, mistake, checks))
                for mistake, checks in variants
            ]
            for mistake, future in runs:
                for check, found in future.result().items():
                    flat[f"{mistake.id}{_PAIR}{check}"] = found
        if cache is not None:
            save_cached(cache, flat)
    observations: dict[str, dict[str, Observed]] = {}
    for pair, arrays in flat.items():
        mistake_id, _, check = pair.partition(_PAIR)
        observations.setdefault(mistake_id, {})[check] = split_display(arrays)[0]
    return KnownMistakes(mistakes, observations)


def _observe_variant(
    assignment: Assignment, run: RunSettings, mistake: Mistake, checks: tuple[Check, ...]
) -> dict[str, dict[str, np.ndarray]]:
    """What the reference with this mistake returns for `checks` (a check it crashes in is left out)."""
    reference = reference_submission(assignment)
    assert reference.root is not None and reference.entry is not None
    folder = run.work_root / "mistakes" / mistake.id
    shutil.rmtree(folder, ignore_errors=True)
    for rel in reference.files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(reference.root / rel, folder / rel)
    (folder / reference.entry).write_text(patched_entry(mistake, reference.root / reference.entry), encoding="utf-8")
    observation = observe(replace(reference, id=f"mistake-{mistake.id}", root=folder), run, checks)
    found: dict[str, dict[str, np.ndarray]] = {}
    for check in checks:
        frame = observation.frames.get(check.name)
        if observation.load_error is None and frame is not None and frame.header.get("status") == "ok":
            found[check.name] = {k: v for k, v in frame.arrays.items() if not isinstance(v, Invalid)}
    return found
