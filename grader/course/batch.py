"""Grade a batch: every submission in parallel, results written as they land.

Coded against `concurrent.futures` only, so a local thread pool and a Dask cluster's
executor are interchangeable (`grader.course.executors`). Each task grades one submission
and returns its JSON row; a task that raised anyway becomes an error row and the loop goes
on. `results.jsonl` is appended as results complete, so an interrupted batch keeps what it
did, and the same command run again grades only what is missing or changed
(`grader.course.resume`). Every output replaces the previous one only once it is complete
(`grader.course.outputs_swap`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.assignment import CHECKS_FILE, Assignment, Check
from grader.course.assignments import find_reference_root, load_assignment
from grader.course.cleanup import clean_stale_runs
from grader.course.context import BatchContext, RunSettings
from grader.course.executors import Runner, open_runner
from grader.course.grading import grade_submission
from grader.course.handins import HandIns, RoundTrip, find_hand_ins
from grader.course.outputs_swap import publishing
from grader.course.reference import known_mistakes, reference_runs
from grader.course.resume import KEY_FIELD, Plan, ResultsLog, exclusive, plan_batch, run_key
from grader.course.seeds import course_seed, derive_seed
from grader.errors import AssignmentError, SubmissionError
from grader.intake.discovery import Submission
from grader.judge.reference_values import default_cache_dir, reference_submission
from grader.outputs.similarity import SimilarPair
from grader.results import SubmissionResult
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.layout import work_folder
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
    # -- resume and executors (issue 12): what a re-run grades, and where the tasks run
    force: bool = False  # regrade every submission, even those whose row is up to date
    only: str | None = None  # regrade this one submission (its key) into an existing batch
    dask: str | None = None  # a Dask scheduler's address, or "local:N"; None: local threads
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
def prepared_context(
    assignment: Assignment, options: GradeOptions, checks: tuple[Check, ...] | None = None, verify: bool = False
) -> Iterator[BatchContext]:
    """A batch context with data prepared, isolation chosen and expected values known.

    With `verify`, first makes sure the reference earns full marks (`require_full_marks`).
    """
    course = options.seed if options.seed is not None else course_seed(assignment, options.cache_dir)
    if verify:
        require_full_marks(assignment, options, course)
    with _context(assignment, options, course, checks) as context:
        yield context


@contextmanager
def _context(
    assignment: Assignment, options: GradeOptions, course: int, checks: tuple[Check, ...] | None
) -> Iterator[BatchContext]:
    # named after this process: if it is killed, the next run removes the folder
    with work_folder() as work_root:
        data_dir = work_root / "batch-data"
        data_dir.mkdir()
        hidden = dict(assignment.prepare_data(data_dir, derive_seed(course, "data"))) if assignment.prepare_data else {}
        run = RunSettings(
            assignment,
            derive_seed(course, "probes"),
            data_dir,
            detect_isolation(options.isolation),
            options.limits,
            work_root,
            options.notebook_mode,
        )
        # The reference's values first, so that the context is built complete, once.
        selected = checks if checks is not None else assignment.checks
        expected, displays = reference_runs(run, selected, options.cache_dir)
        # issue 13: the known mistakes, observed once like the reference (cached)
        mistakes = known_mistakes(run, selected, options.cache_dir)
        yield BatchContext(
            assignment=assignment,
            seed=derive_seed(course, "probes"),
            data_seed=derive_seed(course, "data"),
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
    marker = (
        options.cache_dir / f"full-marks-{assignment.name}-{_guard_key(assignment, course)}"
        if options.cache_dir
        else None
    )
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
        marker.write_text(
            f"{assignment.name}: the reference earned full marks on {GUARD_SEEDS} seeds\n", encoding="utf-8"
        )


def _guard_key(assignment: Assignment, course: int) -> str:
    """A hash of the seed, the assignment folder and the grader's code."""
    digest = hashlib.sha256(f"{course}|{GUARD_SEEDS}".encode())
    for root in (assignment.folder, Path(__file__).parent):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".ipynb", ".json", ".j2"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


SUMMARY_EVERY = 5.0  # seconds between refreshes of the class summary while a batch runs


def grade(
    path: Path,
    assignment_name: str,
    options: GradeOptions = GradeOptions(),
    on_result: Callable[[SubmissionResult, int, int], None] | None = None,
    executor: Executor | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[SubmissionResult]:
    """Grade the submissions found at `path` that have no up-to-date row in the output
    folder (all with `force`, one with `only`); write results.jsonl, reports and gradebook.

    Returns every row of the batch, sorted by submission. `on_note` hears what the
    instructor should know before grading (what a killed run left and was cleaned, what a
    re-run keeps and grades); `on_result(result, done, to_grade)` after each one.
    Raises `SubmissionError` when `path` does not exist or `only` names no submission, and
    `AssignmentError` when the assignment is unknown or its reference fails; a broken
    submission never raises.
    """
    if not path.exists():
        raise SubmissionError.missing(path)
    assignment = load_assignment(assignment_name, options.reference_root)
    out_dir = options.output_dir(assignment.name)
    with exclusive(out_dir):
        return _grade_into(path, assignment, out_dir, options, on_result, executor, on_note)


def _grade_into(
    path: Path,
    assignment: Assignment,
    out_dir: Path,
    options: GradeOptions,
    on_result: Callable[[SubmissionResult, int, int], None] | None,
    executor: Executor | None,
    on_note: Callable[[str], None] | None,
) -> list[SubmissionResult]:
    cleaned = clean_stale_runs(out_dir).describe()
    log = ResultsLog(out_dir / "results.jsonl")
    try:
        with prepared_context(assignment, options, verify=True) as context:
            # before the loop (courseio): every hand-in of the export, with identity, time, late penalty, marks
            found = find_hand_ins(
                path,
                assignment,
                context.work_root / "unpacked",
                options.round_trip(),
                _course_reference(options, assignment),
            )
            submissions = list(found.submissions)
            plan = _plan(submissions, context, log, options)
            for line in (cleaned, *found.messages, plan.describe()):
                if line and on_note:
                    on_note(line)
            rows = dict(plan.kept)
            if plan.todo:  # nothing to grade: no pool, no cluster started
                with open_runner(
                    options.jobs, options.dask, executor, options.isolation, options.reference_root
                ) as runner:
                    rows = _run_all(plan, context, runner, out_dir, options, log, on_result, found)
            _set_aside(log, plan.dropped, out_dir)
            # after the loop (courseio): rows kept from an earlier run get today's marks and late
            # policy too; similar code is read while the hand-ins' files still exist
            rows = _restamp(rows, found, out_dir, options.reports)
            log.rewrite(rows.values())
            similar = _similar(found) if options.reports else []
    finally:
        log.close()
    results = sorted((SubmissionResult.from_json(r) for r in rows.values()), key=lambda r: r.submission.casefold())
    if options.reports:
        _ensure_reports(results, plan, out_dir)
        _write_summaries(results, out_dir, assignment, options, similar, on_note)
    return results


def _course_reference(options: GradeOptions, assignment: Assignment) -> Path:
    """The course's reference/ folder (course.toml lies beside it); the assignment's own
    parent when the assignment is one of the handouts shipped with grader."""
    try:
        return find_reference_root(options.reference_root)
    except AssignmentError:
        return assignment.folder.parent


def _stamped(row: dict[str, Any], found: HandIns, fresh: bool = True) -> dict[str, Any]:
    """A row with its student, time, late penalty and marks (courseio); other fields kept."""
    return {**row, **found.annotate(SubmissionResult.from_json(row), fresh).to_json()}


def _restamp(
    rows: dict[str, dict[str, Any]], found: HandIns, out_dir: Path, reports: bool
) -> dict[str, dict[str, Any]]:
    """Every row stamped again; a report whose stamp changed (new marks) is written again."""
    stamped = {sid: _stamped(row, found, fresh=False) for sid, row in rows.items()}
    for sid, row in stamped.items():
        if reports and row != rows[sid]:
            _publish_report(SubmissionResult.from_json(row), out_dir)
    return stamped


def _similar(found: HandIns) -> list[SimilarPair]:
    from grader.course.roundtrip import similar_submissions

    return similar_submissions(found)


def _plan(submissions: list[Submission], context: BatchContext, log: ResultsLog, options: GradeOptions) -> Plan:
    try:
        # the isolation asked for and the one in effect: a batch graded without bubblewrap
        # is graded again once it is there
        isolation = f"{options.isolation}:{context.isolation.backend}"
        return plan_batch(submissions, log, run_key(context, isolation), options.force, options.only)
    except LookupError:
        known = ", ".join(sorted(s.id for s in submissions)[:20])
        raise SubmissionError(
            f"--only {options.only!r}: no such submission in this batch; its submissions are: {known}"
        ) from None


def _run_all(
    plan: Plan,
    context: BatchContext,
    runner: Runner,
    out_dir: Path,
    options: GradeOptions,
    log: ResultsLog,
    on_result: Callable[[SubmissionResult, int, int], None] | None,
    found: HandIns,
) -> dict[str, dict[str, Any]]:
    """Grade `plan.todo`; each row is appended to the log once its report is in place."""
    rows = dict(plan.kept)
    futures: dict[Future[dict[str, Any]], Submission] = {runner.submit(s, context): s for s in plan.todo}
    refreshed = time.monotonic()
    for done, future in enumerate(as_completed(futures), start=1):
        submission = futures[future]
        row, fault = _row_or_error(future, submission, context)
        row = _stamped(row, found)  # on the trusted side, as it lands (courseio)
        result = SubmissionResult.from_json(row)
        if options.reports:
            published = _publish_report(result, out_dir)
            if published is not result:  # its report could not be written: the student's error row
                result, row, fault = published, published.to_json(), True
        # a harness fault gets no key: the next run tries that submission again
        row[KEY_FIELD] = "" if fault else plan.keys[submission.id]
        log.append(row)
        rows[submission.id] = row
        if on_result:
            on_result(result, done, len(futures))
        if options.reports and time.monotonic() - refreshed > SUMMARY_EVERY:
            # an interrupted run's summary lists the latest row of each submission: the new
            # ones, and the previous run's where no new one has landed yet
            latest = [row for sid, row in log.rows.items() if sid in plan.keys or sid in plan.kept]
            _write_summaries(
                [SubmissionResult.from_json(r) for r in latest], out_dir, context.assignment, options, [], None
            )
            refreshed = time.monotonic()
    return rows


def _row_or_error(
    future: Future[dict[str, Any]], submission: Submission, context: BatchContext
) -> tuple[dict[str, Any], bool]:
    """The task's row, or an error row (and True) when the task itself raised."""
    try:
        return dict(future.result()), False
    except Exception as exc:  # noqa: BLE001 - a harness fault on one submission must not lose the batch
        error = SubmissionResult(
            submission=submission.id,
            assignment=context.assignment.name,
            score=0.0,
            max_score=context.max_score,
            status="error",
            error=f"the grader failed on this submission ({type(exc).__name__}: {exc}); regrade it alone with -j 1 and report the problem",
            seed=context.seed,
        )
        return error.to_json(), True


def _publish_report(result: SubmissionResult, out_dir: Path) -> SubmissionResult:
    """Publish `result`'s report; returns `result`, or its error row when the report could
    not be written (a minimal page saying so is published instead)."""
    from grader.outputs.report_guard import report_or_error_row

    with publishing(out_dir) as staging:
        return report_or_error_row(result, staging)


def _ensure_reports(results: list[SubmissionResult], plan: Plan, out_dir: Path) -> None:
    """Write the reports of kept rows whose page is missing (deleted by hand, or a run
    killed between its row and its page)."""
    from grader.outputs.report import report_file_name

    for result in results:
        if result.submission in plan.kept and not (out_dir / report_file_name(result.submission)).is_file():
            _publish_report(result, out_dir)


def _set_aside(log: ResultsLog, dropped: tuple[str, ...], out_dir: Path) -> None:
    """Rows of submissions no longer in the input leave results.jsonl (one row per submission
    found) but are kept, appended to results.removed.jsonl."""
    if not dropped:
        return
    set_aside = ResultsLog(out_dir / "results.removed.jsonl")
    try:
        for sid in dropped:
            set_aside.append(log.rows[sid])
    finally:
        set_aside.close()


def _write_summaries(
    results: list[SubmissionResult],
    out_dir: Path,
    assignment: Assignment,
    options: GradeOptions,
    similar: list[SimilarPair],
    on_note: Callable[[str], None] | None,
) -> None:
    """The class summary and each gradebook format, rewritten from every row of the batch (courseio)."""
    from grader.course.roundtrip import write_course_outputs

    with publishing(out_dir) as staging:
        say = on_note or (lambda _: None)
        write_course_outputs(
            results, assignment, staging, options.formats, similar, say, options.lms_assignment_id, reports_dir=out_dir
        )
