"""Grade a batch: every submission in parallel, results written as they land.

Coded against `concurrent.futures` only, so a local thread pool and a Dask cluster's
executor are interchangeable. Each task grades one submission and returns a
`SubmissionResult`; a task that raised anyway becomes an error row and the loop goes on.
`results.jsonl` is appended as results complete, so an interrupted batch keeps what it did.
"""

from __future__ import annotations

import json
import os
import secrets as secrets_module
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import Assignment, Check
from grader.course.assignments import load_assignment
from grader.course.context import BatchContext, RunSettings
from grader.course.grading import grade_submission
from grader.course.reference import known_mistakes, reference_runs
from grader.errors import SubmissionError
from grader.intake.discovery import Submission, discover
from grader.judge.reference_values import default_cache_dir
from grader.results import SubmissionResult
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.limits import Limits

__all__ = ["GradeOptions", "grade", "prepared_context"]


@dataclass(frozen=True, slots=True)
class GradeOptions:
    """Options of a grading run; the CLI mirrors them one to one."""

    output: Path | None = None  # default: reports/<assignment>/
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # submissions graded at once
    seed: int | None = None  # draws the hidden checks' inputs; None: a fresh seed per batch
    limits: Limits = field(default_factory=Limits)
    isolation: str = "auto"  # "auto", "bwrap" (required) or "limits-only"
    reference_root: Path | None = None  # where reference/<assignment>/ lives
    cache_dir: Path | None = field(default_factory=default_cache_dir)  # expected values; None: no cache
    reports: bool = True  # write HTML reports, index.html and gradebook.csv
    # notebooks: "auto" (definitions only, a full kernel run when they are not enough),
    # "definitions" or "full"; see benchmarks/README.md for what each costs
    notebook_mode: str = "auto"

    def output_dir(self, assignment: str) -> Path:
        """Where reports go: `output`, or reports/<assignment>/ in the current folder."""
        return self.output or Path("reports") / assignment


@contextmanager
def prepared_context(assignment: Assignment, options: GradeOptions, checks: tuple[Check, ...] | None = None) -> Iterator[BatchContext]:
    """A batch context with data prepared, isolation chosen and expected values known."""
    seed = options.seed if options.seed is not None else secrets_module.randbelow(2**31)
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        work_root = Path(tmp)
        data_dir = work_root / "batch-data"
        data_dir.mkdir()
        hidden = dict(assignment.prepare_data(data_dir, seed)) if assignment.prepare_data else {}
        run = RunSettings(assignment, seed, data_dir, detect_isolation(options.isolation), options.limits, work_root, options.notebook_mode)
        # The reference's values first, so that the context is built complete, once.
        selected = checks if checks is not None else assignment.checks
        expected, displays = reference_runs(run, selected, options.cache_dir)
        # issue 13: the known mistakes, observed once like the reference (cached)
        mistakes = known_mistakes(run, selected, options.cache_dir)
        yield BatchContext(
            assignment=assignment,
            seed=seed,
            data_dir=data_dir,
            isolation=run.isolation,
            limits=options.limits,
            work_root=work_root,
            secrets=hidden,
            expected=expected,
            checks=checks,
            notebook_mode=options.notebook_mode,
            displays=displays,
            mistakes=mistakes,
        )


def grade(
    path: Path,
    assignment_name: str,
    options: GradeOptions = GradeOptions(),
    on_result: Callable[[SubmissionResult, int, int], None] | None = None,
    executor: Executor | None = None,
) -> list[SubmissionResult]:
    """Grade every submission found at `path`; write results.jsonl, reports and gradebook.

    Raises `SubmissionError` when `path` does not exist and `AssignmentError` when the
    assignment is unknown or its reference fails; a broken submission never raises.
    """
    if not path.exists():
        raise SubmissionError.missing(path)
    assignment = load_assignment(assignment_name, options.reference_root)
    out_dir = options.output_dir(assignment.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    with prepared_context(assignment, options) as context:
        submissions = discover(path, assignment.entry, context.work_root / "unpacked")
        if not submissions:
            raise SubmissionError(f"{path}: no submissions found (expected {assignment.entry} files, notebooks, student folders or zips)")
        results = _run_all(submissions, context, out_dir, options, on_result, executor)
    if options.reports:
        _write_summaries(results, out_dir, assignment.name)
    return results


def _run_all(
    submissions: list[Submission],
    context: BatchContext,
    out_dir: Path,
    options: GradeOptions,
    on_result: Callable[[SubmissionResult, int, int], None] | None,
    executor: Executor | None,
) -> list[SubmissionResult]:
    results: list[SubmissionResult] = []
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="grade")
    try:
        futures: dict[Future[SubmissionResult], Submission] = {pool.submit(grade_submission, s, context): s for s in submissions}
        with (out_dir / "results.jsonl").open("w", encoding="utf-8") as jsonl:
            for future in as_completed(futures):
                result = _result_or_error(future, futures[future], context)
                jsonl.write(json.dumps(result.to_json()) + "\n")
                jsonl.flush()
                if options.reports:
                    from grader.outputs.report import write_submission_report

                    write_submission_report(result, out_dir)
                results.append(result)
                if on_result:
                    on_result(result, len(results), len(submissions))
    finally:
        if own_pool:
            pool.shutdown(wait=True, cancel_futures=True)
    return sorted(results, key=lambda r: r.submission.casefold())


def _result_or_error(future: Future[SubmissionResult], submission: Submission, context: BatchContext) -> SubmissionResult:
    try:
        return future.result()
    except Exception as exc:  # a harness fault on one submission must not lose the batch
        return SubmissionResult(
            submission=submission.id,
            assignment=context.assignment.name,
            score=0.0,
            max_score=context.max_score,
            status="error",
            error=f"the grader failed on this submission ({type(exc).__name__}: {exc}); regrade it alone with -j 1 and report the problem",
            seed=context.seed,
        )


def _write_summaries(results: list[SubmissionResult], out_dir: Path, assignment: str) -> None:
    from grader.outputs.gradebook import write_gradebook
    from grader.outputs.summary import write_index

    write_gradebook(results, out_dir / "gradebook.csv")
    write_index(results, out_dir, assignment)
