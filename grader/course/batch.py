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
from grader.course.assignments import find_reference_root, load_assignment
from grader.course.context import BatchContext, RunSettings
from grader.course.grading import grade_submission
from grader.course.handins import HandIns, RoundTrip, find_hand_ins
from grader.course.reference import known_mistakes, reference_runs
from grader.course.seeds import course_seed, derive_seed
from grader.errors import AssignmentError, SubmissionError
from grader.intake.discovery import Submission
from grader.judge.reference_values import default_cache_dir, reference_submission
from grader.outputs.similarity import SimilarPair
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
    # LMS round trip (courseio): how the export is read, the class list, submission times,
    # late work, manual marks, and the gradebook formats written (grader/course/handins.py)
    layout: str | None = None  # moodle, canvas, gradescope or folders; None: recognised
    roster: Path | None = None  # the class list as the LMS exports it: absent students get a row
    times: Path | None = None  # submission times the export lacks
    timezone: str = "UTC"  # for times written without a zone (exports, deadline)
    deadline: str | None = None  # overrides the assignment's / course.toml's deadline
    late: bool = True  # False: no late penalties (--no-late)
    marks: Path | None = None  # the instructor's marks for the manual parts (CSV)
    formats: tuple[str, ...] = ("plain",)  # gradebooks: plain, moodle, canvas, gradescope
    lms_assignment_id: str = ""  # the LMS's id of the assignment (Canvas's column "Name (id)")

    def round_trip(self) -> RoundTrip:
        """The round-trip settings of these options."""
        return RoundTrip(self.layout, self.roster, self.times, self.timezone, self.deadline, self.late, self.marks)

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
    on_note: Callable[[str], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission found at `path`; write results.jsonl, reports and gradebooks.

    `on_note` hears what the instructor should know before and after grading (the layout
    recognised and the count found, late hand-ins, rows an LMS could not match).
    Raises `SubmissionError` when `path` does not exist or cannot be read as a batch,
    `AssignmentError` when the assignment is unknown or its reference fails, and
    `GraderError` for an unreadable roster, time list, late policy or marks file; a broken
    submission never raises.
    """
    say = on_note or (lambda _: None)
    if not path.exists():
        raise SubmissionError.missing(path)
    assignment = load_assignment(assignment_name, options.reference_root)
    out_dir = options.output_dir(assignment.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    with prepared_context(assignment, options, verify=True) as context:
        # before the loop (courseio): every hand-in of the export, with identity, time, late penalty, marks
        found = find_hand_ins(path, assignment, context.work_root / "unpacked", options.round_trip(), _course_reference(options, assignment))
        for line in found.messages:
            say(line)
        results = _run_all(list(found.submissions), context, out_dir, options, on_result, executor, found)
        # after the loop (courseio): results kept from an earlier run get today's marks and late
        # policy too (their reports are rewritten when that changes them); similar code is read
        # while the hand-ins' files still exist
        results = _restamp(results, found, out_dir, options.reports)
        similar = _similar(found) if options.reports else []
    if options.reports:
        _write_summaries(results, out_dir, assignment, options, similar, say)
    return results


def _run_all(
    submissions: list[Submission],
    context: BatchContext,
    out_dir: Path,
    options: GradeOptions,
    on_result: Callable[[SubmissionResult, int, int], None] | None,
    executor: Executor | None,
    found: HandIns,
) -> list[SubmissionResult]:
    results: list[SubmissionResult] = []
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="grade")
    try:
        futures: dict[Future[SubmissionResult], Submission] = {pool.submit(grade_submission, s, context): s for s in submissions}
        with (out_dir / "results.jsonl").open("w", encoding="utf-8") as jsonl:
            for future in as_completed(futures):
                # stamped with student, time, late penalty and marks on the trusted side (courseio)
                result = found.annotate(_result_or_error(future, futures[future], context))
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


def _course_reference(options: GradeOptions, assignment: Assignment) -> Path:
    """The course's reference/ folder (course.toml lies beside it); the assignment's own
    parent when the assignment is one of the handouts shipped with grader."""
    try:
        return find_reference_root(options.reference_root)
    except AssignmentError:
        return assignment.folder.parent


def _restamp(results: list[SubmissionResult], found: HandIns, out_dir: Path, reports: bool) -> list[SubmissionResult]:
    from grader.course.roundtrip import refresh_reports

    stamped = [found.annotate(r, fresh=False) for r in results]
    if reports:
        refresh_reports(results, stamped, out_dir)
    return stamped


def _similar(found: HandIns) -> list[SimilarPair]:
    from grader.course.roundtrip import similar_submissions

    return similar_submissions(found)


def _write_summaries(
    results: list[SubmissionResult], out_dir: Path, assignment: Assignment, options: GradeOptions, similar: list[SimilarPair], say: Callable[[str], None]
) -> None:
    """After the loop (courseio): the class summary and each gradebook format, from the results alone."""
    from grader.course.roundtrip import write_course_outputs

    write_course_outputs(results, assignment, out_dir, options.formats, similar, say, options.lms_assignment_id)
