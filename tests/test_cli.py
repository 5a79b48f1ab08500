"""The `grader` command as an instructor types it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import REFERENCE, ROOT


def _grader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_grade_a_single_file_prints_a_table_and_writes_reports(tmp_path: Path) -> None:
    student = tmp_path / "alice"
    student.mkdir()
    (student / "neural_net.py").write_text((REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text())
    out = tmp_path / "reports"
    done = _grader(
        "grade",
        str(student / "neural_net.py"),
        "-a",
        "two_layer_net",
        "-o",
        str(out),
        "--seed",
        "4",
        "--reference",
        str(REFERENCE),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"alice\s*│\s*20 / 20\s*│\s*graded", done.stdout)
    assert f"reports: {out}/index.html" in done.stderr
    assert (out / "index.html").is_file() and (out / "gradebook.csv").is_file()
    row = json.loads((out / "results.jsonl").read_text())
    # the probes' seed, hashed from --seed: the course seed itself is never recorded beside students
    from grader.course.seeds import derive_seed

    assert row["seed"] == derive_seed(4, "probes") and row["score"] == 20


def test_json_flag_prints_one_object_per_submission(tmp_path: Path, example_batch: object) -> None:
    archive = example_batch.write_zip(tmp_path / "batch.zip")  # type: ignore[attr-defined]
    done = _grader(
        "grade",
        str(archive),
        "-a",
        "two_layer_net",
        "-o",
        str(tmp_path / "out"),
        "--json",
        "-j",
        "2",
        "--reference",
        str(REFERENCE),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(example_batch.submissions())  # type: ignore[attr-defined]
    assert {r["student"]["name"]: r["score"] for r in rows}["Ada Lovelace"] == 20


def test_missing_input_is_one_line_naming_the_path(tmp_path: Path) -> None:
    done = _grader("grade", "nowhere.zip", "-a", "two_layer_net", "--reference", str(REFERENCE), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: nowhere.zip: no such file or folder")
    assert "Traceback" not in done.stderr


def test_unknown_assignment_lists_the_known_ones(tmp_path: Path) -> None:
    done = _grader("grade", str(tmp_path), "-a", "three_layer_net", "--reference", str(REFERENCE), cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown assignment 'three_layer_net'" in done.stderr and "fcc_sigmoid, two_layer_net" in done.stderr


def test_doctor_names_the_active_isolation(tmp_path: Path) -> None:
    done = _grader("doctor", cwd=tmp_path)
    assert done.returncode == 0
    assert re.search(r"^isolation: (bwrap|limits-only) \(", done.stdout, re.M)
    assert "default limits:" in done.stdout


def test_template_command_writes_the_student_folder(tmp_path: Path) -> None:
    done = _grader("template", "fcc_sigmoid", "--out", str(tmp_path / "st"), "--reference", str(REFERENCE), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "st" / "fcc_sigmoid" / "fcc_sigmoid.ipynb").is_file()
    assert (tmp_path / "st" / "fcc_sigmoid" / "grader_selfcheck" / "checks.json").is_file()
