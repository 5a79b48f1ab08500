"""One submission's grading as a self-contained task, for an executor on another machine.

The batch context holds local paths (the work folder, the prepared data) a remote worker
cannot see. `task_payload` packs what grading one submission needs as plain, JSON-ready
data: the submission's files as bytes (base64), the assignment's name and where its course
files lie, the seeds, the limits, the reference's expected and display values and the known
mistakes' observations (each array as `.npy` bytes, never a pickle). `grade_task` rebuilds
the rest on the worker (its own temporary folder, the data prepared from the same seed) and
grades through the same path as a local run, returning `SubmissionResult.to_json()`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from grader.course.assignments import load_assignment
from grader.course.cleanup import owned_folder
from grader.course.context import BatchContext
from grader.course.grading import grade_submission
from grader.intake.discovery import Submission
from grader.judge.diagnosis import KnownMistakes, load_mistakes
from grader.judge.expectations import Observed
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.limits import Limits

__all__ = ["grade_task", "task_payload"]

_PACKED = frozenset({"id", "root", "files", "entry", "error", "ignored"})


def task_payload(
    submission: Submission, context: BatchContext, isolation: str, reference_root: Path | None
) -> dict[str, Any]:
    """Everything `grade_task` needs to grade `submission` where `context`'s paths do not exist."""
    files = {}
    if submission.root is not None:
        files = {
            rel: base64.b64encode((submission.root / rel).read_bytes()).decode("ascii") for rel in submission.files
        }
    return {
        "assignment": context.assignment.name,
        "reference_root": str(reference_root or context.assignment.folder.parent),
        "submission": {
            "id": submission.id,
            "entry": submission.entry,
            "error": submission.error,
            "ignored": list(submission.ignored),
            "files": files,
            # what intake adds beyond these (who handed it in, when) travels as it is
            "more": {f.name: getattr(submission, f.name) for f in fields(submission) if f.name not in _PACKED},
        },
        "seed": context.seed,
        "data_seed": context.data_seed,
        "limits": asdict(context.limits),
        "isolation": isolation,
        "notebook_mode": context.notebook_mode,
        "checks": None if context.checks is None else [c.name for c in context.checks],
        "expected": _encode_checks(context.expected),
        "displays": _encode_checks(context.displays),
        # the known mistakes' observations; their texts are read from the course files again
        "mistakes": {mistake: _encode_checks(checks) for mistake, checks in context.mistakes.observations.items()},
    }


def grade_task(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Grade the submission a `task_payload` describes; the result as `SubmissionResult.to_json()`.

    Raises `AssignmentError` when the worker cannot load the assignment (no course files
    there); a broken submission never raises.
    """
    # the course files where the planning machine has them; else where this worker's
    # $GRADER_COURSE / $GRADER_REFERENCE, its current folder or the packaged handouts say
    root = Path(payload["reference_root"])
    assignment = load_assignment(str(payload["assignment"]), root if root.is_dir() else None)
    checks = None
    if payload["checks"] is not None:
        checks = tuple(c for c in assignment.checks if c.name in set(payload["checks"]))
    with owned_folder() as work_root:
        data_dir = work_root / "batch-data"
        data_dir.mkdir()
        seed = int(payload["seed"])
        # the same seed draws the same data and hidden labels as on the machine that planned the batch
        hidden = dict(assignment.prepare_data(data_dir, int(payload["data_seed"]))) if assignment.prepare_data else {}
        context = BatchContext(
            assignment=assignment,
            seed=seed,
            data_dir=data_dir,
            isolation=detect_isolation(str(payload["isolation"])),
            limits=Limits(**payload["limits"]),
            work_root=work_root,
            notebook_mode=str(payload["notebook_mode"]),
            secrets=hidden,
            expected=_decode_checks(payload["expected"]),
            checks=checks,
            displays=_decode_checks(payload["displays"]),
            mistakes=KnownMistakes(
                load_mistakes(assignment.folder), {m: _decode_checks(c) for m, c in payload["mistakes"].items()}
            ),
            data_seed=int(payload["data_seed"]),
        )
        submission = _unpack(payload["submission"], work_root / "submission")
        return grade_submission(submission, context).to_json()


def _unpack(data: Mapping[str, Any], root: Path) -> Submission:
    """The submission's files written under `root` (names checked: they came over the wire)."""
    root.mkdir()
    files: list[str] = []
    for rel, encoded in data["files"].items():
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise ValueError(f"refusing a file name that leaves the submission folder: {rel!r}")
        target = root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(encoded))
        files.append(rel)
    has_files = data["error"] is None and data["entry"] is not None
    submission = Submission(
        id=str(data["id"]),
        root=root if has_files else None,
        files=tuple(files),
        entry=data["entry"],
        error=data["error"],
        ignored=tuple(data["ignored"]),
    )
    return replace(submission, **data.get("more", {}))


def _encode_checks(observed: Mapping[str, Observed]) -> dict[str, dict[str, str]]:
    """Check -> key -> the array as `.npy` bytes in base64 (exact: dtype, shape and bits)."""
    return {check: {key: _encode(value) for key, value in arrays.items()} for check, arrays in observed.items()}


def _encode(value: Any) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(value), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _decode_checks(data: Mapping[str, Mapping[str, str]]) -> dict[str, Observed]:
    return {
        check: {key: np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False) for key, text in arrays.items()}
        for check, arrays in data.items()
    }
