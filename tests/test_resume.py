"""Resuming a batch: a re-run grades only what is new or changed, a killed run resumes to the
same outputs as an uninterrupted one, and nothing a previous run finished is lost.

Real runs throughout: `grader grade` as a subprocess killed with SIGKILL, real workers.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BATCH_SEED, REFERENCE, load_example_batch

from grader.course.batch import GradeOptions, grade
from grader.course.cleanup import RUN_PREFIX, clean_stale_runs
from grader.results import SubmissionResult
from grader.sandbox.owners import owner_tag

STUDENTS = ("Ada Lovelace", "Template Only", "Grace Hopper", "Margaret Hamilton")


def write_batch(folder: Path, students: tuple[str, ...] = STUDENTS) -> Path:
    """One folder per student holding their neural_net.py (the example batch's sources)."""
    sources = load_example_batch().submissions()
    for student in students:
        target = folder / student.replace(" ", "_")
        target.mkdir(parents=True, exist_ok=True)
        (target / "neural_net.py").write_text(sources[student], encoding="utf-8")
    return folder


def rows(path: Path) -> dict[str, dict[str, Any]]:
    """results.jsonl by submission; every line must be a whole JSON row."""
    found: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert row["submission"] not in found, f"two rows for {row['submission']}"
        found[row["submission"]] = row
    return found


def without_timings(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    clean = {}
    for key, row in table.items():
        row = {k: v for k, v in row.items() if k != "seconds"}
        row["checks"] = [{k: v for k, v in c.items() if k != "seconds"} for c in row["checks"]]
        clean[key] = row
    return clean


def _options(out: Path, cache: Path, **more: Any) -> GradeOptions:
    return GradeOptions(output=out, jobs=2, seed=BATCH_SEED, reference_root=REFERENCE, cache_dir=cache, **more)


class Recorder:
    """The submissions a run graded, in the order they finished."""

    def __init__(self) -> None:
        self.graded: list[str] = []

    def __call__(self, result: SubmissionResult, done: int, total: int) -> None:
        self.graded.append(result.submission)


@pytest.fixture(scope="module")
def graded_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A batch graded once with a fixed course seed: (batch folder, output folder, cache)."""
    work = tmp_path_factory.mktemp("resume")
    batch, out, cache = write_batch(work / "batch"), work / "out", work / "cache"
    grade(batch, "two_layer_net", _options(out, cache))
    return batch, out, cache


@pytest.fixture()
def copy_of_batch(graded_batch: tuple[Path, Path, Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    batch, out, cache = graded_batch
    shutil.copytree(batch, tmp_path / "batch")
    shutil.copytree(out, tmp_path / "out")
    return tmp_path / "batch", tmp_path / "out", cache


def test_same_command_again_grades_nothing(copy_of_batch: tuple[Path, Path, Path]) -> None:
    batch, out, cache = copy_of_batch
    before = rows(out / "results.jsonl")
    recorder = Recorder()
    results = grade(batch, "two_layer_net", _options(out, cache), on_result=recorder)
    assert recorder.graded == []
    assert rows(out / "results.jsonl") == before
    assert {r.submission for r in results} == set(before)


def test_changed_and_new_submissions_are_the_only_ones_graded(copy_of_batch: tuple[Path, Path, Path]) -> None:
    batch, out, cache = copy_of_batch
    before = rows(out / "results.jsonl")
    reference = (batch / "Ada_Lovelace" / "neural_net.py").read_text(encoding="utf-8")
    (batch / "Template_Only" / "neural_net.py").write_text(reference, encoding="utf-8")  # the student finished it
    write_batch(batch, ("Alan Turing",))
    recorder = Recorder()
    grade(batch, "two_layer_net", _options(out, cache), on_result=recorder)
    assert sorted(recorder.graded) == ["Alan_Turing", "Template_Only"]
    after = rows(out / "results.jsonl")
    assert after["Template_Only"]["score"] == after["Template_Only"]["max_score"] > before["Template_Only"]["score"]
    for student in ("Ada_Lovelace", "Grace_Hopper", "Margaret_Hamilton"):
        assert after[student] == before[student]
    gradebook = (out / "gradebook.csv").read_text(encoding="utf-8")
    assert "Alan_Turing" in gradebook and len(gradebook.strip().splitlines()) == 1 + 5


def test_force_regrades_every_submission(copy_of_batch: tuple[Path, Path, Path]) -> None:
    batch, out, cache = copy_of_batch
    before = rows(out / "results.jsonl")
    recorder = Recorder()
    grade(batch, "two_layer_net", _options(out, cache, force=True), on_result=recorder)
    assert sorted(recorder.graded) == sorted(before)
    assert without_timings(rows(out / "results.jsonl")) == without_timings(before)


def test_only_regrades_one_student_and_refreshes_the_gradebook(copy_of_batch: tuple[Path, Path, Path]) -> None:
    batch, out, cache = copy_of_batch
    before = rows(out / "results.jsonl")
    reference = (batch / "Ada_Lovelace" / "neural_net.py").read_text(encoding="utf-8")
    for student in ("Template_Only", "Grace_Hopper"):
        (batch / student / "neural_net.py").write_text(reference, encoding="utf-8")
    recorder = Recorder()
    grade(batch, "two_layer_net", _options(out, cache, only="template_only"), on_result=recorder)
    assert recorder.graded == ["Template_Only"]
    after = rows(out / "results.jsonl")
    full = after["Template_Only"]["max_score"]
    assert after["Template_Only"]["score"] == full and after["Grace_Hopper"] == before["Grace_Hopper"]
    # the plain gradebook (UTF-8 with BOM): key, name, ..., score (the total)
    gradebook = {
        row["key"]: row["score"]
        for row in csv.DictReader((out / "gradebook.csv").read_text(encoding="utf-8-sig").splitlines())
    }
    assert (
        gradebook["Template_Only"] == f"{full:g}"
        and gradebook["Grace_Hopper"] == f"{before['Grace_Hopper']['score']:g}"
    )
    assert "Template_Only" in (out / "index.html").read_text(encoding="utf-8")


def test_only_with_an_unknown_name_says_which_names_exist(copy_of_batch: tuple[Path, Path, Path]) -> None:
    from grader.errors import SubmissionError

    batch, out, cache = copy_of_batch
    with pytest.raises(SubmissionError, match="Grace_Hopper"):
        grade(batch, "two_layer_net", _options(out, cache, only="Grace Hoper"))


def test_a_torn_last_line_is_ignored_and_that_submission_graded_again(copy_of_batch: tuple[Path, Path, Path]) -> None:
    batch, out, cache = copy_of_batch
    log = out / "results.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    torn = json.loads(lines[-1])["submission"]
    log.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")  # killed mid-write
    recorder = Recorder()
    grade(batch, "two_layer_net", _options(out, cache), on_result=recorder)
    assert recorder.graded == [torn]
    assert set(rows(log)) == {s.replace(" ", "_") for s in STUDENTS}


def test_a_student_no_longer_in_the_input_leaves_the_gradebook_but_is_kept_aside(
    copy_of_batch: tuple[Path, Path, Path],
) -> None:
    batch, out, cache = copy_of_batch
    shutil.rmtree(batch / "Grace_Hopper")
    grade(batch, "two_layer_net", _options(out, cache))
    assert "Grace_Hopper" not in rows(out / "results.jsonl")
    assert "Grace_Hopper" not in (out / "gradebook.csv").read_text(encoding="utf-8")
    assert "Grace_Hopper" in rows(out / "results.removed.jsonl")


def test_two_runs_into_one_folder_at_once_are_refused(copy_of_batch: tuple[Path, Path, Path]) -> None:
    from grader.errors import GraderError

    batch, out, cache = copy_of_batch
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", str(out / ".grader.lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(GraderError, match="another `grader grade`"):
            grade(batch, "two_layer_net", _options(out, cache))
    finally:
        holder.kill()
        holder.wait()
    grade(batch, "two_layer_net", _options(out, cache))  # the lock dies with its holder


# -- killed runs ----------------------------------------------------------------------


def _command(batch: Path, out: Path, *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(batch),
        "-a",
        "two_layer_net",
        "-o",
        str(out),
        "-j",
        "1",
        "--seed",
        str(BATCH_SEED),
        "--reference",
        str(REFERENCE),
        *more,
    ]


def _environment(tmp: Path, cache: Path) -> dict[str, str]:
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp), "GRADER_CACHE": str(cache)}


def _kill_after_first_row(command: list[str], env: dict[str, str], log: Path, total: int, rows_before: int = 0) -> int:
    """Start `command`, SIGKILL it once `log` holds a new row but not all; return its pid."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            done = log.read_bytes().count(b"\n") if log.is_file() else 0
            if rows_before < done < rows_before + total:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    if proc.returncode != -signal.SIGKILL:
        pytest.fail(f"the run ended (status {proc.returncode}) before it could be interrupted")
    return proc.pid


def test_a_killed_run_resumes_to_the_outputs_of_an_uninterrupted_one(tmp_path: Path) -> None:
    batch, cache, tmp = write_batch(tmp_path / "batch"), tmp_path / "cache", tmp_path / "tmp"
    env = _environment(tmp, cache)
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    subprocess.run(_command(batch, whole), env=env, check=True, capture_output=True)

    killed = _kill_after_first_row(_command(batch, resumed), env, resumed / "results.jsonl", len(STUDENTS))
    assert list(tmp.glob(f"{RUN_PREFIX}{killed}-*")), "the killed run's work folder should be left behind"
    partial = rows(resumed / "results.jsonl")  # every line whole: the kill cannot tear a row in half here
    assert 0 < len(partial) < len(STUDENTS)

    again = subprocess.run(_command(batch, resumed), env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert f"already graded and unchanged; grading {len(STUDENTS) - len(partial)}" in again.stderr
    assert "cleaned up after an interrupted run" in again.stderr
    assert not list(tmp.glob(f"{RUN_PREFIX}{killed}-*"))
    assert without_timings(rows(resumed / "results.jsonl")) == without_timings(rows(whole / "results.jsonl"))
    assert (resumed / "gradebook.csv").read_bytes() == (whole / "gradebook.csv").read_bytes()
    assert not list(resumed.glob(f".{RUN_PREFIX}*")), "no staging folder may stay in the output"


def test_an_interrupted_rerun_loses_nothing_the_previous_run_finished(tmp_path: Path) -> None:
    batch, cache = write_batch(tmp_path / "batch"), tmp_path / "cache"
    env = _environment(tmp_path / "tmp", cache)
    out = tmp_path / "out"
    subprocess.run(_command(batch, out), env=env, check=True, capture_output=True)
    complete = rows(out / "results.jsonl")

    _kill_after_first_row(
        _command(batch, out, "--force"), env, out / "results.jsonl", len(STUDENTS), rows_before=len(STUDENTS)
    )
    # every student still has a complete row (old or new), a report and a gradebook line
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    latest = {json.loads(line)["submission"]: json.loads(line) for line in lines}
    assert without_timings(latest) == without_timings(complete)
    gradebook = (out / "gradebook.csv").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    for student in complete:
        assert student in gradebook and student in index
        assert list(out.glob(f"{student}-*.html"))


# -- what a killed run leaves behind ---------------------------------------------------


def _dead_tag() -> str:
    """The owner tag of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    tag = owner_tag(proc.pid)
    proc.kill()
    proc.wait()
    return tag


def test_cleanup_removes_dead_runs_folders_and_processes_but_not_live_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the "system" temporary folder of this test
    dead = tmp_path / f"{RUN_PREFIX}{_dead_tag()}-abc"
    (dead / "job-1").mkdir(parents=True)
    live = tmp_path / f"{RUN_PREFIX}{owner_tag()}-def"
    live.mkdir()
    staging = tmp_path / "out" / f".{RUN_PREFIX}{_dead_tag()}-ghi"
    staging.mkdir(parents=True)
    unrelated = tmp_path / "grader-something-else"
    unrelated.mkdir()
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], cwd=dead / "job-1")
    try:
        cleaned = clean_stale_runs(tmp_path / "out")
        assert orphan.wait(timeout=10) == -signal.SIGKILL
    finally:
        if orphan.poll() is None:
            orphan.kill()
    assert not dead.exists() and not staging.exists()
    assert live.is_dir() and unrelated.is_dir()
    assert cleaned.folders == 2 and cleaned.processes == 1


def test_cleanup_removes_cgroups_of_dead_runs_only(tmp_path: Path) -> None:
    from grader.sandbox.cgroups import CGROUP_ROOT, cgroups_available

    if not cgroups_available():
        pytest.skip("cgroups are not writable here (not root, or no cgroup v1 pids/memory)")
    parent = CGROUP_ROOT / "pids" / "grader"
    parent.mkdir(exist_ok=True)
    dead, live = parent / f"{_dead_tag().split('-')[0]}-test", parent / f"{os.getpid()}-test"
    dead.mkdir()
    live.mkdir()
    try:
        cleaned = clean_stale_runs()
        assert not dead.exists() and live.is_dir()
        assert cleaned.cgroups >= 1
    finally:
        for path in (dead, live):
            if path.exists():
                path.rmdir()
