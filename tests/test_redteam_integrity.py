"""Issue 11: one submission can never hurt the batch, another student or the host.

One batch (reports ON, jobs=2) of the hostile and unusual students of
tests/redteam/integrity_cases.py between honest ones, graded in a subprocess so that the
memory measured is the grading process's own. Asserted for the batch as a whole: it
completes; every student has exactly one row in results.jsonl, one in the gradebook and one
report; honest students keep full marks; the grading process stays under MEMORY_BOUND_MIB;
every report stays under REPORT_BOUND_BYTES; nothing is left behind (the run's work
folders, cgroups named after the grading process, processes carrying the run's marker).
Then, per class of fault, what the students attacking it must show.

A forged expected-value cache entry (class 7) is planted before the batch runs: honest
students keeping full marks shows it was not believed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from redteam import integrity_cases, support

from grader.course.assignments import load_assignment
from grader.course.seeds import derive_seed
from grader.judge.expectations import Observed
from grader.judge.reference_values import cache_file, load_cached, save_cached
from grader.outputs.report import report_file_name

SEED = 11
# The grading process's peak resident set on this batch (numpy, nbformat, jinja2 and two
# graded students at a time, 20 MB of notebook and 400 source files among them): measured
# about 60 MiB here; before issue 11 such students took it to ~1 GB.
MEMORY_BOUND_MIB = 256
# README "Security model": a report is bounded whatever the submission (sources 400,000
# characters in 20 files, 10,000 lines, notebook text 400,000 characters, images 4 MiB).
REPORT_BOUND_BYTES = 24 << 20
RESULTS_ROW_BOUND_BYTES = 4 << 20
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\ufe62", "\uff0b", "\uff0d", "\uff20")
# Classes 3 and 4 live in grader/intake/lms.py and unpack.py; their students join this batch
# once the batch reads its input through them (another branch wires them in).
HIDDEN_WORDS = (
    "correct",
    "wrong value",
    "raised an exception",
    "not implemented",
    "timed out",
    "crashed",
    "not run: the submission did not load",
)


@dataclass
class Batch:
    run: support.Run
    students: list[integrity_cases.Student]
    rows: list[dict[str, Any]]
    gradebook: list[dict[str, str]]
    out: Path
    peak_rss_mib: float
    leftovers: list[str]
    cache_entry: Path


def _cgroups_of(pid: int) -> list[str]:
    found = []
    for controller in ("pids", "memory", "cpu"):
        parent = Path("/sys/fs/cgroup") / controller / "grader"
        if parent.is_dir():
            found += [f"{controller}/{p.name}" for p in parent.iterdir() if p.name.startswith(f"{pid}-")]
    return found


def _plant_forged_cache(run: support.Run, cache_dir: Path) -> Path:
    """A cache entry for this batch's expected values, all zeros, MAC'd with a key that is
    not the grader's (as a worker that rewrote the cache would produce)."""
    assert run.reference_root is not None
    assignment = load_assignment(support.ASSIGNMENT, run.reference_root)
    checks = tuple(c for c in assignment.checks if c.expect.needs_reference)
    # the reference is observed with the probes' seed that the batch derives from its --seed
    path: Path = cache_file(cache_dir, assignment, checks, derive_seed(SEED, "probes"))
    forged: dict[str, Observed] = {c.name: {"value": np.zeros((5, 3))} for c in checks}
    save_cached(path, forged, key_file=run.tmp / "attacker.key")
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    tmp = tmp_path_factory.mktemp("integrity")
    run = support.Run(tmp)
    run.reference_root = support.build_assignment(tmp / "reference", timeout=20.0)
    run.output = tmp / "out"
    students = integrity_cases.students(run) + integrity_cases.intake_students()
    archive = tmp / "batch.zip"
    integrity_cases.write_batch(archive, students)
    cache_dir = tmp / "cache"
    forged = _plant_forged_cache(run, cache_dir)
    run.batch_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(run.batch_tmp)}
    script = Path(__file__).parent / "redteam" / "grade_batch.py"
    try:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(archive), str(run.reference_root), str(run.output), str(cache_dir), str(SEED)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        stdout, stderr = proc.communicate(timeout=1500)
        assert proc.returncode == 0, stderr[-4000:]
        measured = json.loads(stdout.strip().splitlines()[-1])
        leftovers = [str(p) for p in run.batch_tmp.iterdir()]
        leftovers += [f"process {pid}: {cmd}" for pid, cmd in support.processes_with(run.marker)]
        leftovers += [f"cgroup {name}" for name in _cgroups_of(proc.pid)]
        rows = [json.loads(line) for line in (run.output / "results.jsonl").read_text(encoding="utf-8").splitlines()]
        with (run.output / "gradebook.csv").open(encoding="utf-8", newline="") as handle:
            gradebook = list(csv.DictReader(handle))
        yield Batch(run, students, rows, gradebook, run.output, measured["peak_rss_mib"], leftovers, forged)
    finally:
        for pid, _ in support.processes_with(run.marker):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def _row(batch: Batch, start: str) -> dict[str, Any]:
    found = [r for r in batch.rows if r["submission"].startswith(start)]
    assert len(found) == 1, (start, [r["submission"] for r in batch.rows])
    return found[0]


def _checks(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in row["checks"]}


# -- the batch as a whole -------------------------------------------------------------------


def test_every_student_has_exactly_one_row_gradebook_line_and_report(batch: Batch) -> None:
    names = [r["submission"] for r in batch.rows]
    assert len(names) == len(set(names)) == len(batch.students)
    assert len(batch.gradebook) == len(batch.students)
    reports = {p.name for p in batch.out.glob("*.html")} - {"index.html"}
    assert reports == {report_file_name(n) for n in names}
    assert (batch.out / "index.html").is_file()


def test_honest_students_keep_full_marks(batch: Batch) -> None:
    for student in batch.students:
        if not student.honest:
            continue
        rows = [r for r in batch.rows if _same_name(r["submission"], student.folder)]
        assert len(rows) == 1, student.folder
        row = rows[0]
        failed = [f"{c['name']}: {c['message']}" for c in row["checks"] if c["status"] != "passed"]
        assert (row["status"], row["score"], failed) == ("graded", row["max_score"], []), student.folder


def test_names_that_clean_up_alike_are_two_students_and_deep_folders_stay_in_budget(batch: Batch) -> None:
    alices = sorted(r["score"] for r in batch.rows if r["submission"].casefold().startswith("alice"))
    assert alices == [0.0, 13.0]  # the stub did not score the honest student's code, nor the reverse
    assert len(batch.rows) == len(batch.students)  # Cyrillic and Chinese names: one row each
    deep = [r for r in batch.rows if r["submission"].startswith("deep_folders")]
    assert len(deep) == 1 and len(list(batch.run.batch_tmp.iterdir())) == 0


def _same_name(submission: str, folder: str) -> bool:
    """Whether this row is this folder's (names are cleaned on the way; the latin-1 one is
    rewritten in the zip)."""
    if folder == integrity_cases.LATIN1_PLACEHOLDER.decode():
        return submission.startswith("latin1_")
    if folder.isascii():
        return submission == folder
    visible = "".join(ch for ch in folder if ch.isalnum())
    return "".join(ch for ch in submission if ch.isalnum()) == visible


def test_the_grading_process_stays_under_its_memory_bound(batch: Batch) -> None:
    # Measured about 60-100 MiB for this batch. The similarity check once fingerprinted the 20 MB
    # notebook cell (493 MiB); it now skips code past its own budget, as the report does.
    assert batch.peak_rss_mib < MEMORY_BOUND_MIB, f"grading process peaked at {batch.peak_rss_mib:.0f} MiB"


def test_reports_and_rows_stay_under_their_bounds(batch: Batch) -> None:
    for report in batch.out.glob("*.html"):
        assert report.stat().st_size < REPORT_BOUND_BYTES, report.name
    for line in (batch.out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        assert len(line.encode()) < RESULTS_ROW_BOUND_BYTES, line[:200]


def test_nothing_is_left_behind(batch: Batch) -> None:
    assert batch.leftovers == []


# -- 1. text that cannot be encoded ---------------------------------------------------------


def test_surrogates_become_replacement_characters_and_the_reports_are_written(batch: Batch) -> None:
    row = _row(batch, "surrogate_exception")
    predict = _checks(row)["predict"]
    assert predict["status"] == "error" and "\ufffd" in predict["message"]
    assert "\ufffd" in _checks(_row(batch, "surrogate_print"))["predict"]["stdout"]
    for start in ("surrogate_", "latin1_"):
        for r in (r for r in batch.rows if r["submission"].startswith(start)):
            assert (batch.out / report_file_name(r["submission"])).read_text(encoding="utf-8")


# -- 2. the grader's own memory and disk ----------------------------------------------------


def test_many_files_are_shown_within_the_budget(batch: Batch) -> None:
    row = _row(batch, "many_files")
    assert len(row["source"]) <= 20
    assert sum(len(t) for t in row["source"].values()) <= 400_000
    assert "neural_net.py" in row["source"]
    assert any("source files; the report shows the first 20" in n for n in row["notes"])


def test_huge_notebooks_are_graded_and_not_parsed_for_the_report(batch: Batch) -> None:
    for start in ("huge_cell", "many_cells"):
        row = _row(batch, start)
        assert row["notebook"] == [] and any("not shown" in n for n in row["notes"]), start


def test_forged_huge_error_texts_are_capped_everywhere(batch: Batch) -> None:
    predict = _checks(_row(batch, "forged_huge_error"))["predict"]
    assert predict["status"] == "error" and predict["points"] == 0
    assert len(predict["message"]) <= 2_400 and len(predict["location"] or "") <= 300
    assert len(predict["stdout"]) <= 8_100 and all(len(d) <= 600 for d in predict["details"])
    for line in batch.gradebook:
        assert all(len(cell) <= 32_767 for cell in line.values())


# -- 5, 6, 8, 9 -------------------------------------------------------------------------------


def test_a_planted_checks_py_never_runs_in_the_grader(batch: Batch) -> None:
    assert not (batch.run.tmp / "planted-checks-ran").exists()


def test_a_zero_size_gigantic_array_is_a_malformed_result_for_its_check(batch: Batch) -> None:
    checks = _checks(_row(batch, "zero_dim_frame"))
    assert checks["predict"]["status"] == "error" and "malformed result" in checks["predict"]["message"]
    assert all(c["status"] == "passed" for name, c in checks.items() if name != "predict")


def test_hidden_checks_say_only_fixed_words(batch: Batch) -> None:
    for row in batch.rows:
        for check in row["checks"]:
            if not check["public"]:
                assert check["message"] in HIDDEN_WORDS, check["message"]
                assert (check["details"], check["location"], check["stdout"]) == ([], None, "")
    assert _checks(_row(batch, "smuggle_hidden"))["hidden_scores"]["message"] == "raised an exception"
    assert _checks(_row(batch, "smuggle_type_name"))["hidden_scores"]["message"] == "wrong value"
    everything = (batch.out / "results.jsonl").read_text(encoding="utf-8") + (batch.out / "gradebook.csv").read_text(
        encoding="utf-8"
    )
    everything += "".join(p.read_text(encoding="utf-8") for p in batch.out.glob("*.html"))
    # the student's own source may be shown; what it would have sent out may not
    assert re.search(rf"{integrity_cases.SMUGGLE}(?: \[|_\d)", everything) is None


def test_gradebook_cells_never_start_a_formula_or_a_line(batch: Batch) -> None:
    text = (batch.out / "gradebook.csv").read_text(encoding="utf-8")
    assert "\u2028" not in text and "\u2029" not in text
    for line in batch.gradebook:
        for cell in line.values():
            visible = cell.lstrip(" \ufeff\u200b\u200c\u200d\u2060")
            assert not visible.startswith(FORMULA_STARTS), cell


# -- 7. the expected-value cache --------------------------------------------------------------


def test_the_forged_cache_entry_was_recomputed_and_signed_by_the_grader(batch: Batch) -> None:
    entry = load_cached(batch.cache_entry)  # with the grader's key (conftest: a key of this run)
    assert entry is not None
    value = entry["forward_scores"]["value"]
    assert isinstance(value, np.ndarray) and not np.array_equal(value, np.zeros((5, 3)))
