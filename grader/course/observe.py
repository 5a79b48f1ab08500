"""Observe one submission: run its checks in as many fresh workers as crashes require.

`observe` is the single execution path: students, the reference (for expected values)
and the students' self-check all go through it. A check that crashes or hangs its
worker costs that check only: the remaining checks run in a fresh worker.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace
from typing import Any

from grader.assignment import Check
from grader.course.context import RunSettings
from grader.course.staging import stage, worker_request
from grader.intake.discovery import Submission
from grader.judge.verdicts import describe_error, unrun
from grader.outputs.text import head_and_tail
from grader.results import CheckResult
from grader.sandbox.runner import WorkerOutcome, run_worker
from grader.sandbox.wire import Frame

__all__ = ["Observation", "observe"]

OUTPUT_EXCERPT = 4000  # characters of a crashed worker's output kept in its check's result
CELL_RECORDS = 2000  # how each notebook cell went, as the worker reported it


@dataclass(slots=True)
class Observation:
    """What the workers reported for one submission, before any judging."""

    frames: dict[str, Frame] = field(default_factory=dict)
    failures: dict[str, CheckResult] = field(default_factory=dict)
    load_error: CheckResult | None = None
    seconds: float = 0.0
    mode: str = ""
    cells: list[dict[str, Any]] = field(default_factory=list)


def observe(submission: Submission, run: RunSettings, checks: tuple[Check, ...]) -> Observation:
    """Run `checks` against `submission`; for a notebook in "auto" mode, first with its
    definitions only, then with a full run if those do not define what is graded.

    One deadline per submission (`submission_timeout` from now): the full run after a
    failed fast path gets what is left of it, not a fresh one.
    """
    deadline = time.monotonic() + run.limits.submission_timeout
    if submission.kind != "notebook":
        return _observe(submission, run, checks, "module", deadline)
    if run.notebook_mode != "auto":
        return _observe(submission, run, checks, run.notebook_mode, deadline)
    fast = _observe(submission, run, checks, "definitions", deadline)
    if (fast.load_error is None and not _needs_full_run(fast)) or time.monotonic() >= deadline:
        return fast
    full = _observe(submission, run, checks, "full", deadline)
    full.seconds += fast.seconds
    return full


def _observe(
    submission: Submission, run: RunSettings, checks: tuple[Check, ...], mode: str, deadline: float
) -> Observation:
    """Run `checks` in as many fresh workers as crashes require, all before `deadline`."""
    assert submission.root is not None and submission.entry is not None
    observation = Observation()
    started = time.monotonic()
    by_name = {c.name: c for c in checks}
    remaining = list(checks)
    limits = run.limits
    if mode == "full":
        limits = replace(limits, load_timeout=limits.notebook_timeout)
    layout = None
    try:
        layout = stage(submission, run, checks)
        while remaining:
            request = worker_request(submission, run, remaining, mode)
            outcome = run_worker(layout, request, run.isolation, limits, lambda n: by_name[n].timeout, deadline)
            if _record(outcome, observation, by_name, run):
                break
            done = set(observation.frames) | set(observation.failures)
            if not any(c.name in done for c in remaining):
                # No check came back and none was running: a stream the student's code
                # broke between checks. Another worker would do the same; do not loop.
                for c in remaining:
                    observation.failures[c.name] = unrun(
                        c,
                        "error",
                        f"no result came back: the worker sent a malformed stream ({outcome.detail or outcome.end})",
                    )
                break
            remaining = [c for c in remaining if c.name not in done]
            if remaining and time.monotonic() >= deadline:
                for c in remaining:
                    observation.failures[c.name] = unrun(
                        c,
                        "timeout",
                        f"not run: the submission used its whole time budget ({run.limits.submission_timeout:g} s)",
                    )
                break
    finally:
        if layout is not None:
            shutil.rmtree(layout.root, ignore_errors=True)
        observation.seconds = time.monotonic() - started
    return observation


def _needs_full_run(observation: Observation) -> bool:
    """A name the definitions did not provide: a helper or constant computed in a skipped
    cell (a NameError), or a graded name built by code the fast path does not run."""
    for frame in observation.frames.values():
        error = frame.header.get("error")
        if isinstance(error, dict) and error.get("type") in ("NameError", "MissingDefinition"):
            return True
    return False


def _record(outcome: WorkerOutcome, observation: Observation, by_name: dict[str, Check], run: RunSettings) -> bool:
    """Fold one worker's outcome into the observation; True when nothing more can run."""
    loaded = next((f for f in outcome.frames if f.type == "loaded"), None)
    if loaded is None and (observation.frames or observation.failures):
        # A fresh worker that failed to load after an earlier one did: the checks already
        # judged keep their results, only the remaining ones carry this failure.
        failure = _load_failure(outcome, run)
        for name, check in by_name.items():
            if name not in observation.frames and name not in observation.failures:
                observation.failures[name] = unrun(check, failure.status, failure.message, (), None, failure.stdout)
        return True
    if loaded is None:
        observation.load_error = _load_failure(outcome, run)
        return True
    observation.mode = str(loaded.header.get("mode", ""))[:60]
    cells = loaded.header.get("cells")
    observation.cells = [c for c in cells[:CELL_RECORDS] if isinstance(c, dict)] if isinstance(cells, list) else []
    if loaded.header.get("status") != "ok":
        message, details, location = describe_error(loaded.header.get("error"))
        observation.load_error = CheckResult(
            "import",
            0,
            0,
            "error",
            f"the submission failed to load: {message}",
            True,
            details,
            0.0,
            location,
            str(loaded.header.get("stdout", "")),
        )
        return True
    missing = loaded.header.get("missing")
    if isinstance(missing, list) and missing:
        names = ", ".join(str(m)[:80] for m in missing[:10])
        observation.load_error = CheckResult(
            "import", 0, 0, "error", f"the submission does not define {names} (in {run.assignment.entry})", True
        )
        return True
    for frame in outcome.frames:
        check_name = str(frame.header.get("check"))
        if frame.type == "result" and check_name in by_name and check_name not in observation.frames:
            observation.frames[check_name] = frame
    if outcome.end != "done" and outcome.running in by_name:
        observation.failures[outcome.running] = _crash(by_name[outcome.running], outcome)
    elif outcome.end == "timeout":
        return True
    return False


def _crash(check: Check, outcome: WorkerOutcome) -> CheckResult:
    output = head_and_tail(outcome.output, OUTPUT_EXCERPT)
    if outcome.end == "timeout":
        return unrun(
            check,
            "timeout",
            f"took longer than {check.timeout:g} s (wall clock); an infinite loop or very slow code",
            (),
            None,
            output,
        )
    reasons = {
        "protocol": f"the worker sent a malformed result ({outcome.detail})",
        "memory": "killed: used more memory than the sandbox allows",
        "cpu": "killed at the CPU time limit",
        "signal": f"crashed: {outcome.detail}",
        "exited": f"the worker stopped during this check ({outcome.detail}); sys.exit/os._exit or a crash in your code",
    }
    return unrun(check, "error", reasons.get(outcome.end, outcome.detail), (), None, output)


def _load_failure(outcome: WorkerOutcome, run: RunSettings) -> CheckResult:
    if outcome.end == "timeout":
        message = (
            "loading the submission took too long (code at module level, or a notebook cell, that never finishes?)"
        )
        return CheckResult(
            "import", 0, 0, "timeout", message, True, (), 0.0, None, head_and_tail(outcome.output, OUTPUT_EXCERPT)
        )
    last = outcome.output.strip().splitlines()[-1:] or [""]
    said = f" (last output: {last[0][:200]})" if last[0] else ""
    message = f"the worker died while loading the submission: {outcome.detail or outcome.end}{said}"
    return CheckResult(
        "import", 0, 0, "error", message, True, (), 0.0, None, head_and_tail(outcome.output, OUTPUT_EXCERPT)
    )
