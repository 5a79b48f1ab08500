"""Red-team suite: hostile and broken submissions, each with the behaviour it must get.

Every fixture in tests/redteam/submissions/ is graded once, in one batch (one zip of all
of them plus honest students, jobs=2), against the test assignment `redteam_net`
(tests/redteam/support.py: two_layer_net's reference and probes, 6 checks, 4 s each).
Each case states what the checks it attacks must show (status, words of the message,
points); every other check of that submission must pass with full points, and the honest
students around it must get full marks. Host-side witnesses (canary paths, a TCP listener
on 127.0.0.1, a /proc scan for leftover processes) show that nothing got out.

GRADER_REDTEAM_ISOLATION=limits-only runs the same suite under the fallback; the cases
the fallback cannot hold are marked xfail there (and only there), with what was observed.
The README's "Security model" states what each case shows. tests/test_redteam_integrity.py grades the
cases of issue 11 (the trusted side around the sandbox) in a second batch, with reports on.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redteam import support

from grader.course.batch import GradeOptions, grade
from grader.results import SubmissionResult
from grader.sandbox.isolation import detect_isolation
from grader.sandbox.limits import Limits

ISOLATION = os.environ.get("GRADER_REDTEAM_ISOLATION", "auto")
FALLBACK = detect_isolation(ISOLATION).backend == "limits-only"
SEED = 5
# Small enough to make bombs quick, large enough for numpy and OpenBLAS (README, "Security model": OpenBLAS needs ~192 MiB).
# Time budgets are generous so that a busy machine cannot fail an honest check: loading
# (numpy inside the sandbox) takes under 1 s idle, 20 s are allowed; an honest check takes
# milliseconds against support.CHECK_TIMEOUT's 4 s; a whole submission gets 180 s.
LIMITS = Limits(memory_mb=768, tmp_mb=128, processes=32, load_timeout=20.0, submission_timeout=180.0)
HONEST = ("aa_honest", "victim", "zz_honest")


@dataclass(frozen=True)
class E:
    """What one check must show: its status (or one of several) and words of its message
    (case-insensitive)."""

    status: str | tuple[str, ...]
    words: tuple[str, ...] = ()
    points: float = 0.0

    def __init__(self, status: str | tuple[str, ...], *words: str, points: float = 0.0) -> None:
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "points", points)

    @property
    def statuses(self) -> tuple[str, ...]:
        return (self.status,) if isinstance(self.status, str) else self.status


# A hostile check whose only promise is that it costs 0 points and nothing else: whether
# the memory limit or the check's 4 s timer stops it first depends on the machine's load.
COSTS_NOTHING = E(("error", "timeout"))


@dataclass(frozen=True)
class Case:
    """A fixture and its expected behaviour; checks not in `expect` must pass in full."""

    name: str
    expect: dict[str, E] = field(default_factory=dict)
    every: E | None = None  # the same for every check (the submission does not load)
    fallback: str | None = None  # why the limits-only fallback cannot hold it


# A hidden check's failure says these fixed words and nothing the submission chose (issue 11).
HIDDEN_WRONG = E("failed", "wrong value")


def import_failure(*words: str, status: str = "error") -> E:
    return E(status, *words)


CASES = [
    # -- time, processes, memory -------------------------------------------------------
    Case("loop_at_import", every=E("timeout", "loading the submission took too long", "module level")),
    Case(
        "loop_in_loss",
        {"toy_loss": E("timeout", "took longer than 4 s"), "gradients": E("timeout", "took longer than 4 s")},
    ),
    Case("sigterm_ignored", {"predict": E("timeout", "took longer than 4 s", "infinite loop")}),
    Case("sleep_past_timeout", {"predict": E("timeout", "took longer than 4 s")}),
    Case("memory_bomb", {"predict": COSTS_NOTHING}),
    Case("memfd_bomb", {"predict": COSTS_NOTHING}),
    Case("fork_bomb", {"predict": E("timeout", "took longer than 4 s")}),
    Case("fork_bomb_setsid", {"predict": E("timeout", "took longer than 4 s")}),
    Case("daemon"),  # answers correctly; the daemon it leaves must not survive (see below)
    Case("big_file", {"predict": E("error", "File too large")}),
    Case(
        "disk_bomb",
        fallback="no private filesystem: the worker wrote 32 MB files into the host's /, /root, /var/tmp, /dev/shm and site-packages (FSIZE bounds each file, not their number)",
    ),
    Case("output_flood"),  # answers correctly; the 100 MB are capped (see below)
    Case("deep_recursion", {"predict": E("error", "RecursionError", "maximum recursion depth")}),
    Case("segfault", {"predict": E("error", "crashed", "SIGSEGV")}),
    # -- leaving early ---------------------------------------------------------------------
    Case("sys_exit_at_import", every=import_failure("failed to load", "SystemExit")),
    Case("os_exit_at_import", every=import_failure("while loading", "exited")),
    Case("sys_exit_in_check", {"predict": E("error", "SystemExit")}),
    Case("os_exit_in_check", {"predict": E("error", "stopped during this check", "os._exit")}),
    Case("keyboard_interrupt", {"predict": E("error", "KeyboardInterrupt")}),
    Case("system_exit_raised", {"toy_loss": E("error", "SystemExit"), "gradients": E("error", "SystemExit")}),
    Case("bad_str_exception", {"predict": E("error", "Unprintable", "cannot be shown")}),
    # -- broken files ------------------------------------------------------------------------
    Case("missing_module", every=import_failure("ModuleNotFoundError", "No module named 'tensorflow_for_the_win'")),
    Case("nul_byte", every=import_failure("failed to load", "null bytes")),
    Case("non_utf8", every=import_failure("failed to load", "SyntaxError", "utf-8")),
    # -- escaping the sandbox: each answers correctly unless the attack succeeds -------
    Case(
        "read_reference",
        fallback="the worker runs as the grader's user (root here): it read the reference and listed the repository",
    ),
    Case(
        "read_other_submissions",
        fallback="the other students' unpacked files sit beside the job folder, readable by the same user",
    ),
    Case(
        "peek_grader",
        fallback="no PID namespace: the grader's process (pytest) is visible in /proc and, as root, its memory can be opened",
    ),
    Case(
        "write_outside",
        fallback="the worker (root) wrote to the output folder, results.jsonl, the home folder, /tmp, /dev/shm, the reference folder and the batch's folders",
    ),
    Case("network", fallback="no network namespace: the worker connected to the host's 127.0.0.1 listener"),
    Case(
        "overwrite_data",
        fallback="the fallback's data folder is a writable private copy: the attacker changed its own inputs (only its own)",
    ),
    # -- tampering with the verdict ----------------------------------------------------------
    Case(
        "patch_numpy",
        {
            "forward_scores": E("failed", "sum of |got - expected|"),
            "predict": E("failed", "differ from the reference"),
            "data_scores": E("failed", "max |got - expected|"),
            "hidden_scores": HIDDEN_WRONG,
        },
    ),
    Case("patch_probes", {"gradients": E("failed", "against the reference gradient")}),
    Case(
        "lying_eq",
        {
            **{check: E("failed", "expected a numpy array, got Liar") for check in ("forward_scores", "data_scores")},
            "hidden_scores": HIDDEN_WRONG,
        },
    ),
    Case(
        "lying_array",
        {
            **{
                check: E("failed", "expected a numpy array, got LooksLikeAnArray")
                for check in ("forward_scores", "data_scores")
            },
            "hidden_scores": HIDDEN_WRONG,
            "predict": E("failed", "expected a numpy array, got AlwaysEqual"),
        },
    ),
    Case("lying_float", {"toy_loss": E("failed", "expected a numpy array, got Persuasive")}),
    # -- wrong values ------------------------------------------------------------------------
    Case("nan_scores", {"forward_scores": E("failed", "1 NaN value", "[2, 1]")}),
    Case("inf_loss", {"toy_loss": E("failed", "infinite"), "gradients": E("failed", "NaN")}),
    Case(
        "wrong_shape",
        {
            "forward_scores": E("failed", "expected shape (5, 3), got (3, 5)"),
            "data_scores": E("failed", "expected shape (6, 3), got (3, 6)"),
            "hidden_scores": HIDDEN_WRONG,
        },
    ),
    Case(
        "wrong_dtype",
        {
            **{check: E("failed", "complex128 is not numeric") for check in ("forward_scores", "data_scores")},
            "hidden_scores": HIDDEN_WRONG,
            "predict": E("failed", "<U", "is not numeric"),
        },
    ),
    Case(
        "list_instead_of_array",
        {
            "forward_scores": E("failed", "expected a numpy array, got list of 5 items"),
            "predict": E("failed", "expected a numpy array, got list of 40 items"),
            "data_scores": E("failed", "expected a numpy array, got list of 6 items"),
            "hidden_scores": HIDDEN_WRONG,
        },
    ),
    Case("missing_grad_key", {"gradients": E("failed", "1 of 4 wrong", "db1", "NoneType", points=3.0)}),
    Case("mutate_inputs", {"gradients": E("failed", "numerical gradient")}),
    Case("leak_hidden_inputs", {"hidden_scores": E("error", "raised an exception")}),
    # -- attacking the result pipe -------------------------------------------------------
    Case("result_fd_garbage", {"predict": E("error", "malformed result")}),
    Case("forged_done", {"predict": E("error", "malformed result")}),
    Case("forged_frames", {"predict": E("error", "malformed result")}),
    Case("huge_result", {"predict": E("error", "larger than 64 MiB")}),
    Case("huge_header", {"predict": E("error", "larger than 64 MiB")}),
]


# -- the batch ---------------------------------------------------------------------------


@dataclass
class Graded:
    run: support.Run
    results: dict[str, SubmissionResult]
    accepted: int
    survivors: list[tuple[int, str]]
    host_files: dict[str, bool]
    jsonl: list[str]


def _write_batch(run: support.Run, archive: Path, cases: list[Case]) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for case in cases:
            for name, data in support.submission_files(case.name, run).items():
                zf.writestr(f"{case.name}/{name}", data)
        for student in HONEST:
            secret = run.victim_secret if student == "victim" else None
            for name, data in support.honest_files(run, secret).items():
                zf.writestr(f"{student}/{name}", data)


@contextmanager
def graded_batch(tmp: Path, cases: list[Case]) -> Iterator[Graded]:
    """Grade every case and the honest students in one batch; clean the host after."""
    run = support.Run(tmp)
    run.reference_root = support.build_assignment(tmp / "reference")
    run.output = tmp / "out"
    run.output.mkdir()
    listener = support.Listener()
    run.port = listener.port
    archive = tmp / "batch.zip"
    _write_batch(run, archive, cases)
    options = GradeOptions(
        output=run.output, seed=SEED, reports=False, jobs=2, limits=LIMITS, isolation=ISOLATION,
        reference_root=run.reference_root, cache_dir=tmp / "cache",
    )  # fmt: skip
    run.batch_tmp.mkdir()
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, str(run.batch_tmp)
    try:
        try:
            results = grade(archive, support.ASSIGNMENT, options)
        finally:
            tempfile.tempdir = saved_tempdir
        time.sleep(1.0)  # a daemon that outlived its worker would have written by now
        yield Graded(
            run=run,
            results={r.submission: r for r in results},
            accepted=listener.accepted,
            survivors=support.processes_with(run.marker),
            host_files={str(p): p.exists() for p in [*run.host_write_targets(), run.daemon_target]},
            jsonl=(run.output / "results.jsonl").read_text(encoding="utf-8").splitlines(),
        )
    finally:
        listener.close()
        for pid, _ in support.processes_with(run.marker):  # only what this run started
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        run.cleanup_host()


@pytest.fixture(scope="session")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graded]:
    with graded_batch(tmp_path_factory.mktemp("redteam"), CASES) as batch:
        yield batch


def _case_params() -> list[Any]:
    params = []
    for case in CASES:
        marks = (
            [pytest.mark.xfail(reason=f"limits-only fallback: {case.fallback}", strict=True)]
            if FALLBACK and case.fallback
            else []
        )
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def _text(check: Any) -> str:
    return " | ".join([check.message, *check.details, check.stdout])


@pytest.mark.parametrize("case", _case_params())
def test_case_gets_its_stated_behaviour(graded: Graded, case: Case) -> None:
    result = graded.results[case.name]
    assert result.status == "graded", result.error
    checks = {c.name: c for c in result.checks}
    assert set(checks) == set(support.CHECKS)
    for name in support.CHECKS:
        check = checks[name]
        expected = case.every or case.expect.get(name)
        if expected is None:
            assert (check.status, check.points) == ("passed", support.POINTS[name]), (
                f"{name}: {check.status}: {check.message}"
            )
            continue
        assert check.status in expected.statuses, f"{name}: {check.status}: {check.message}"
        if case.every is not None and not check.public:
            # a hidden check of a submission that did not load says so in fixed words only
            assert check.message in ("timed out", "not run: the submission did not load"), check.message
            continue
        for word in expected.words:
            assert word.lower() in check.message.lower(), f"{name}: {word!r} not in {check.message!r}"
        assert check.points == expected.points, f"{name}: {check.points} points: {check.message}"
    for check in result.checks:
        assert "LEAKED" not in _text(check) and "ESCAPED" not in _text(check), _text(check)


def test_honest_students_around_the_attacks_get_full_marks(graded: Graded) -> None:
    for student in HONEST:
        result = graded.results[student]
        failed = [f"{c.name}: {c.message}" for c in result.checks if not c.passed]
        assert (result.score, failed) == (result.max_score, [])


def test_every_submission_has_a_result(graded: Graded) -> None:
    assert set(graded.results) == {c.name for c in CASES} | set(HONEST)


@pytest.mark.xfail(
    FALLBACK, reason="limits-only fallback: write_outside replaced results.jsonl with a forged one", strict=True
)
def test_results_jsonl_holds_one_row_per_submission_and_no_forged_row(graded: Graded) -> None:
    rows = [json.loads(line) for line in graded.jsonl]
    assert sorted(r["submission"] for r in rows) == sorted(graded.results)


@pytest.mark.xfail(FALLBACK, reason="limits-only fallback: no network namespace", strict=True)
def test_no_connection_reached_the_host_listener(graded: Graded) -> None:
    assert graded.accepted == 0


@pytest.mark.xfail(FALLBACK, reason="limits-only fallback: the root worker wrote host files", strict=True)
def test_nothing_was_written_outside_the_workers_folders(graded: Graded) -> None:
    assert [path for path, exists in graded.host_files.items() if exists] == []


def test_no_process_is_left_behind(graded: Graded) -> None:
    # The batch works in a folder named after the run's marker: bwrap's command line, a
    # fallback worker's HOME and working folder, and the daemon's argv all carry it.
    assert graded.survivors == []


def test_output_flood_is_captured_and_capped(graded: Graded) -> None:
    predict = next(c for c in graded.results["output_flood"].checks if c.name == "predict")
    assert predict.passed
    assert len(predict.stdout) < 10_000
    assert "output dropped" in predict.stdout


def test_hidden_inputs_do_not_leak_through_output_or_messages(graded: Graded) -> None:
    hidden = next(c for c in graded.results["leak_hidden_inputs"].checks if c.name == "hidden_scores")
    # the student's own source line may be shown; the values it would print ("[[...") not
    assert "HIDDEN-INPUT [" not in _text(hidden)
    assert hidden.stdout == ""
