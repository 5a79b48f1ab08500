"""Grade a batch: every submission in parallel, results written as they land.

Coded against `concurrent.futures` only, so a local thread pool and a Dask cluster's
executor are interchangeable. Each task grades one submission and returns a
`SubmissionResult`; a task that raised anyway becomes an error row and the loop goes on.
`results.jsonl` is appended as results complete, so an interrupted batch keeps what it did.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import CHECKS_FILE, Assignment, Check
from grader.course.assignments import load_assignment
from grader.course.context import BatchContext, RunSettings
from grader.course.grading import grade_submission
from grader.course.reference import known_mistakes, reference_runs
from grader.course.seeds import course_seed, derive_seed
from grader.errors import AssignmentError, SubmissionError
from grader.intake.discovery import Submission, discover
from grader.judge.reference_values import default_cache_dir, reference_submission
from grader.results import SubmissionResult
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.limits import Limits

__all__ = ["GradeOptions", "grade", "prepared_context", "require_full_marks"]

# The reference must earn full marks on this many seeds (the batch's, and more) before
# anything is graded: a tolerance tightened too far shows up here, not in students' grades.
GUARD_SEEDS = 3


@dataclass(frozen=True, slots=True)
class GradeOptions:
    """Options of a grading run; the CLI mirrors them one to one."""

    output: Path | None = None  # default: reports/<assignment>/
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # submissions graded at once
    # the course seed the hidden checks' inputs are drawn from; None: the assignment's own,
    # kept in reference/<name>/.course_seed (created on first use), so every batch draws the same
    seed: int | None = None
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
def prepared_context(assignment: Assignment, options: GradeOptions, checks: tuple[Check, ...] | None = None, verify: bool = False) -> Iterator[BatchContext]:
    """A batch context with data prepared, isolation chosen and expected values known.

    With `verify`, first makes sure the reference earns full marks (`require_full_marks`).
    """
    course = options.seed if options.seed is not None else course_seed(assignment, options.cache_dir)
    if verify:
        require_full_marks(assignment, options, course)
    with _context(assignment, options, course, checks) as context:
        yield context


@contextmanager
def _context(assignment: Assignment, options: GradeOptions, course: int, checks: tuple[Check, ...] | None) -> Iterator[BatchContext]:
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        work_root = Path(tmp)
        data_dir = work_root / "batch-data"
        data_dir.mkdir()
        hidden = dict(assignment.prepare_data(data_dir, derive_seed(course, "data"))) if assignment.prepare_data else {}
        run = RunSettings(assignment, derive_seed(course, "probes"), data_dir, detect_isolation(options.isolation), options.limits, work_root, options.notebook_mode)
        # The reference's values first, so that the context is built complete, once.
        selected = checks if checks is not None else assignment.checks
        expected, displays = reference_runs(run, selected, options.cache_dir)
        # issue 13: the known mistakes, observed once like the reference (cached)
        mistakes = known_mistakes(run, selected, options.cache_dir)
        yield BatchContext(
            assignment=assignment,
            seed=derive_seed(course, "probes"),
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


def require_full_marks(assignment: Assignment, options: GradeOptions, course: int) -> None:
    """Grade the reference on all its checks for `course` and GUARD_SEEDS - 1 more seeds.

    Raises `AssignmentError` naming the first check the reference does not pass: a
    tolerance or threshold set too tight fails here, not in students' grades. A pass is
    remembered in the cache folder, keyed by the reference, the grader and the seed.
    """
    marker = options.cache_dir / f"full-marks-{assignment.name}-{_guard_key(assignment, course)}" if options.cache_dir else None
    if marker is not None and marker.is_file():
        return
    reference = reference_submission(assignment)
    for n in range(GUARD_SEEDS):
        seed = course if n == 0 else derive_seed(course, f"guard-{n}")
        with _context(assignment, options, seed, None) as context:
            result = grade_submission(reference, context)
        short = [c for c in result.checks if not c.passed]
        if result.error or short:
            what = f"check {short[0].name!r}: {short[0].message}" if short else str(result.error)
            seed_note = "the course seed" if n == 0 else f"another seed ({n} of {GUARD_SEEDS - 1})"
            raise AssignmentError.in_file(
                assignment.folder / CHECKS_FILE,
                f"the reference does not earn full marks on its own checks ({seed_note}): {what}. "
                "Fix the reference or the check's tolerance before grading.",
            )
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{assignment.name}: the reference earned full marks on {GUARD_SEEDS} seeds\n", encoding="utf-8")


def _guard_key(assignment: Assignment, course: int) -> str:
    """A hash of the seed, the assignment folder and the grader's code."""
    digest = hashlib.sha256(f"{course}|{GUARD_SEEDS}".encode())
    for root in (assignment.folder, Path(__file__).parent):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".ipynb", ".json", ".j2"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


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
    with prepared_context(assignment, options, verify=True) as context:
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
