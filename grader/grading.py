"""Grade one submission: stage its files, run its probes in workers, judge the results.

`observe` is the single execution path: students, the reference (for expected values)
and the students' self-check all go through it. A check that crashes or hangs its
worker costs that check only: the remaining checks run in a fresh worker.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks import Assignment, Check
from grader.compare import describe_error, judge_frame, unrun
from grader.expect import Observed
from grader.notebook_view import notebook_notes, notebook_problem, report_cells
from grader.results import CheckResult, SubmissionResult
from grader.sandbox import Isolation, JobLayout, Limits, WorkerOutcome, run_worker
from grader.submissions import Submission
from grader.wire import Frame

__all__ = ["BatchContext", "Observation", "grade_submission", "observe"]


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What every submission of one batch shares."""

    assignment: Assignment
    seed: int
    data_dir: Path
    isolation: Isolation
    limits: Limits
    work_root: Path
    secrets: Mapping[str, np.ndarray] = field(default_factory=dict)
    expected: Mapping[str, Observed] = field(default_factory=dict)
    checks: tuple[Check, ...] | None = None  # a subset (self-check); None means all
    # notebooks: "definitions" (fast), "full" (a kernel runs every cell), or "auto":
    # definitions first, and a full run when they do not define what is graded
    notebook_mode: str = "auto"

    @property
    def selected(self) -> tuple[Check, ...]:
        return self.checks if self.checks is not None else self.assignment.checks

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.selected)


@dataclass(slots=True)
class Observation:
    """What the workers reported for one submission, before any judging."""

    frames: dict[str, Frame] = field(default_factory=dict)
    failures: dict[str, CheckResult] = field(default_factory=dict)
    load_error: CheckResult | None = None
    seconds: float = 0.0
    mode: str = ""
    cells: list[dict[str, Any]] = field(default_factory=list)


def observe(submission: Submission, context: BatchContext, checks: tuple[Check, ...]) -> Observation:
    """Run `checks` against `submission`; for a notebook in "auto" mode, first with its
    definitions only, then with a full run if those do not define what is graded."""
    if submission.kind != "notebook":
        return _observe(submission, context, checks, "module")
    if context.notebook_mode != "auto":
        return _observe(submission, context, checks, context.notebook_mode)
    fast = _observe(submission, context, checks, "definitions")
    if fast.load_error is None and not _needs_full_run(fast):
        return fast
    full = _observe(submission, context, checks, "full")
    full.seconds += fast.seconds
    return full


def _observe(submission: Submission, context: BatchContext, checks: tuple[Check, ...], mode: str) -> Observation:
    """Run `checks` in as many fresh workers as crashes require."""
    assert submission.root is not None and submission.entry is not None
    observation = Observation()
    started = time.monotonic()
    deadline = started + context.limits.submission_timeout
    layout = _stage(submission, context, checks)
    by_name = {c.name: c for c in checks}
    remaining = list(checks)
    limits = context.limits
    if mode == "full":
        limits = replace(limits, load_timeout=limits.notebook_timeout)
    try:
        while remaining:
            request = {**_request(submission, context, remaining), "notebook_mode": mode, "cell_timeout": limits.cell_timeout}
            outcome = run_worker(layout, request, context.isolation, limits, lambda n: by_name[n].timeout, deadline)
            if _record(outcome, observation, by_name, context):
                break
            done = set(observation.frames) | set(observation.failures)
            if not any(c.name in done for c in remaining):
                # No check came back and none was running: a stream the student's code
                # broke between checks. Another worker would do the same; do not loop.
                for c in remaining:
                    observation.failures[c.name] = unrun(c, "error", f"no result came back: the worker sent a malformed stream ({outcome.detail or outcome.end})")
                break
            remaining = [c for c in remaining if c.name not in done]
            if remaining and time.monotonic() >= deadline:
                for c in remaining:
                    observation.failures[c.name] = unrun(c, "timeout", f"not run: the submission used its whole time budget ({context.limits.submission_timeout:g} s)")
                break
    finally:
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


def _record(outcome: WorkerOutcome, observation: Observation, by_name: dict[str, Check], context: BatchContext) -> bool:
    """Fold one worker's outcome into the observation; True when nothing more can run."""
    loaded = next((f for f in outcome.frames if f.type == "loaded"), None)
    if loaded is None and (observation.frames or observation.failures):
        # A fresh worker that failed to load after an earlier one did: the checks already
        # judged keep their results, only the remaining ones carry this failure.
        failure = _load_failure(outcome, context)
        for name, check in by_name.items():
            if name not in observation.frames and name not in observation.failures:
                observation.failures[name] = unrun(check, failure.status, failure.message, (), None, failure.stdout)
        return True
    if loaded is None:
        observation.load_error = _load_failure(outcome, context)
        return True
    observation.mode = str(loaded.header.get("mode", ""))[:60]
    cells = loaded.header.get("cells")
    observation.cells = [c for c in cells[:2000] if isinstance(c, dict)] if isinstance(cells, list) else []
    if loaded.header.get("status") != "ok":
        message, details, location = describe_error(loaded.header.get("error"))
        observation.load_error = CheckResult("import", 0, 0, "error", f"the submission failed to load: {message}", True, details, 0.0, location, str(loaded.header.get("stdout", "")))
        return True
    missing = loaded.header.get("missing")
    if isinstance(missing, list) and missing:
        names = ", ".join(str(m) for m in missing[:10])
        observation.load_error = CheckResult("import", 0, 0, "error", f"the submission does not define {names} (in {context.assignment.entry})", True)
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
    excerpt = _excerpt(outcome.output)
    if outcome.end == "timeout":
        return unrun(check, "timeout", f"took longer than {check.timeout:g} s (wall clock); an infinite loop or very slow code", (), None, excerpt)
    reasons = {
        "protocol": f"the worker sent a malformed result ({outcome.detail})",
        "memory": "killed: used more memory than the sandbox allows",
        "cpu": "killed at the CPU time limit",
        "signal": f"crashed: {outcome.detail}",
        "exited": f"the worker stopped during this check ({outcome.detail}); sys.exit/os._exit or a crash in your code",
    }
    return unrun(check, "error", reasons.get(outcome.end, outcome.detail), (), None, excerpt)


def _load_failure(outcome: WorkerOutcome, context: BatchContext) -> CheckResult:
    if outcome.end == "timeout":
        message = "loading the submission took too long (code at module level, or a notebook cell, that never finishes?)"
        return CheckResult("import", 0, 0, "timeout", message, True, (), 0.0, None, _excerpt(outcome.output))
    last = outcome.output.strip().splitlines()[-1:] or [""]
    said = f" (last output: {last[0][:200]})" if last[0] else ""
    message = f"the worker died while loading the submission: {outcome.detail or outcome.end}{said}"
    return CheckResult("import", 0, 0, "error", message, True, (), 0.0, None, _excerpt(outcome.output))


def _excerpt(output: str, limit: int = 4000) -> str:
    return output if len(output) <= limit else output[: limit // 2] + "\n[...]\n" + output[-limit // 2 :]


def _request(submission: Submission, context: BatchContext, checks: list[Check]) -> dict[str, Any]:
    return {
        "entry": _staged_entry(submission, context.assignment),
        # a .py for a notebook assignment is an exported notebook: its definitions only
        "kind": "script" if context.assignment.entry_is_notebook and submission.kind == "module" else submission.kind,
        "names": list(context.assignment.names),
        "seed": context.seed,
        "checks": [{"name": c.name, "file": c.probe_file, "probe": c.probe_name} for c in checks],
    }


def _staged_entry(submission: Submission, assignment: Assignment) -> str:
    """Where the graded file lies in the worker's copy; renamed LMS files get their
    expected name back (`smith_12_34_neural_net.py` is imported as `neural_net`)."""
    assert submission.entry is not None
    entry = Path(submission.entry)
    if entry.suffix == Path(assignment.entry).suffix and entry.name != assignment.entry:
        return (entry.parent / assignment.entry).as_posix()
    return entry.as_posix()


def _stage(submission: Submission, context: BatchContext, checks: tuple[Check, ...]) -> JobLayout:
    """Copy only allowlisted source files, the needed probe files and the data."""
    assert submission.root is not None
    shared = context.data_dir if context.isolation.backend == "bwrap" else None
    layout = JobLayout.create(context.work_root, shared_data=shared)
    for rel in submission.files:
        target = layout.submission / (_staged_entry(submission, context.assignment) if rel == submission.entry else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(submission.root / rel, target)
    for name in {c.probe_file for c in checks}:
        shutil.copyfile(context.assignment.folder / name, layout.probes / name)
    # Without bubblewrap each worker gets its own copy of the data: a worker could
    # otherwise change the files the next student reads.
    if shared is None and context.data_dir.is_dir():
        shutil.copytree(context.data_dir, layout.data, dirs_exist_ok=True)
    return layout


def grade_submission(submission: Submission, context: BatchContext) -> SubmissionResult:
    """Grade one submission; never raises for anything the student did."""
    assignment = context.assignment
    checks = context.selected
    common: dict[str, Any] = {"submission": submission.id, "assignment": assignment.name, "max_score": context.max_score, "seed": context.seed, "isolation": context.isolation.describe()}
    if submission.error is not None or submission.root is None or submission.entry is None:
        return SubmissionResult(score=0.0, status="error", error=submission.error, files=submission.files, **common)
    entry_path = submission.root / submission.entry
    problem = notebook_problem(entry_path) if submission.kind == "notebook" else None
    if problem is not None:
        results = tuple(unrun(c, "error", problem) for c in checks)
        return SubmissionResult(score=0.0, status="graded", checks=results, error=problem, files=submission.files, graded_as="notebook", **common)
    observation = observe(submission, context, checks)
    results = tuple(_result_for(c, observation, context) for c in checks)
    error = observation.load_error.message if observation.load_error else None
    notebook = submission.kind == "notebook"
    return SubmissionResult(
        score=round(sum(r.points for r in results), 4),
        status="graded",
        checks=results,
        error=error,
        seconds=observation.seconds,
        files=submission.files,
        graded_as=f"{observation.mode or submission.kind}: {submission.entry}",
        source=_sources(submission),
        notes=_ignored_note(submission) + (notebook_notes(entry_path, observation.cells, assignment.names) if notebook else ()),
        notebook=report_cells(entry_path, observation.cells) if notebook else (),
        **common,
    )


def _result_for(check: Check, observation: Observation, context: BatchContext) -> CheckResult:
    if observation.load_error is not None:
        failure = observation.load_error
        return unrun(check, failure.status, failure.message, failure.details, failure.location, failure.stdout)
    if check.name in observation.failures:
        return observation.failures[check.name]
    frame = observation.frames.get(check.name)
    if frame is None:
        return unrun(check, "error", "no result came back for this check")
    return judge_frame(check, frame, context.expected.get(check.name), context.secrets)


def _ignored_note(submission: Submission) -> tuple[str, ...]:
    """Files handed in but not graded (compiled files, links, data): say so, once."""
    if not submission.ignored:
        return ()
    shown = ", ".join(submission.ignored[:8]) + (f" and {len(submission.ignored) - 8} more" if len(submission.ignored) > 8 else "")
    return (f"not read (only .py and .ipynb files are graded): {shown}",)


def _sources(submission: Submission) -> dict[str, str]:
    assert submission.root is not None
    texts = {}
    for rel in submission.files:
        if rel.endswith(".py"):
            texts[rel] = (submission.root / rel).read_bytes()[:200_000].decode("utf-8", errors="replace")
    return texts
