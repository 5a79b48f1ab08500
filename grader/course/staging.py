"""Stage one submission for a worker: copy its allowlisted files, the probes and the data,
and write the request the worker reads."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.assignment import Assignment, Check
from grader.course.context import RunSettings
from grader.intake.discovery import Submission
from grader.sandbox.layout import JobLayout
from grader.sandbox.wire import ProbeCall, WorkerRequest

__all__ = ["stage", "staged_entry", "worker_request"]


def worker_request(submission: Submission, run: RunSettings, checks: list[Check], mode: str) -> WorkerRequest:
    """What a worker is told for `checks`; the runner adds its paths, limits and result fd."""
    return WorkerRequest(
        entry=staged_entry(submission, run.assignment),
        # a .py for a notebook assignment is an exported notebook: its definitions only
        kind="script" if run.assignment.entry_is_notebook and submission.kind == "module" else submission.kind,
        names=tuple(run.assignment.names),
        seed=run.seed,
        checks=tuple(ProbeCall(c.name, c.probe_file, c.probe_name) for c in checks),
        notebook_mode=mode,
        cell_timeout=run.limits.cell_timeout,
    )


def staged_entry(submission: Submission, assignment: Assignment) -> str:
    """Where the graded file lies in the worker's copy; renamed LMS files get their
    expected name back (`smith_12_34_neural_net.py` is imported as `neural_net`)."""
    assert submission.entry is not None
    entry = Path(submission.entry)
    if entry.suffix == Path(assignment.entry).suffix and entry.name != assignment.entry:
        return (entry.parent / assignment.entry).as_posix()
    return entry.as_posix()


def stage(submission: Submission, run: RunSettings, checks: tuple[Check, ...]) -> JobLayout:
    """Copy only allowlisted source files, the needed probe files and the data."""
    assert submission.root is not None
    shared = run.data_dir if run.isolation.backend == "bwrap" else None
    layout = JobLayout.create(run.work_root, shared_data=shared)
    for rel in submission.files:
        target = layout.submission / (staged_entry(submission, run.assignment) if rel == submission.entry else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(submission.root / rel, target)
    for name in {c.probe_file for c in checks}:
        shutil.copyfile(run.assignment.folder / name, layout.probes / name)
    # Without bubblewrap each worker gets its own copy of the data: a worker could
    # otherwise change the files the next student reads.
    if shared is None and run.data_dir.is_dir():
        shutil.copytree(run.data_dir, layout.data, dirs_exist_ok=True)
    return layout
