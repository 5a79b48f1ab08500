"""Gradescope as a host: the autograder zip, run as Gradescope runs it, writes a valid
results.json (real zip, real `run_autograder` subprocess, real sandboxed grading)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.course.assignments import load_assignment
from grader.course.gradescope import build_autograder
from grader.outputs.gradescope_json import gradescope_results
from grader.results import CheckResult, SubmissionResult

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_autograder("two_layer_net", tmp_path_factory.mktemp("build") / "autograder.zip", REFERENCE, seed=11)


def run_like_gradescope(
    autograder_zip: Path, tmp_path: Path, submission: Path | None
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Lay out /autograder as Gradescope does (source/, submission/, run_autograder) and run it."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)  # zipfile does not restore modes; Gradescope does
    if submission is not None:
        shutil.copy(submission, root / "submission" / "neural_net.py")
    env = {
        **os.environ,
        "GRADER_AUTOGRADER_ROOT": str(root),
        "GRADER_PYTHON": sys.executable,
        "GRADER_CACHE": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [str(root / "run_autograder")], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    return root, proc


def valid_results(root: Path) -> dict[str, Any]:
    """results.json as Gradescope's specification describes it."""
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert (
        isinstance(data["score"], float) and isinstance(data["execution_time"], int) and isinstance(data["output"], str)
    )
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in {"passed", "failed"} and isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITIES
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert sum(t["max_score"] for t in data["tests"]) == 20
    return dict(data)


def test_zip_has_gradescopes_files_at_its_root(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        config = json.loads(archive.read("grader.json"))
        requirements = archive.read("requirements.txt").decode().split()
    assert {"setup.sh", "run_autograder", "requirements.txt", "grader.json"} <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert config == {"assignment": "two_layer_net", "seed": 11}
    assert {
        "reference/two_layer_net/checks.py",
        "reference/two_layer_net/hidden_probes.py",
        "lib/grader/__init__.py",
    } <= names
    assert not any("__pycache__" in n for n in names)
    assert any(r.startswith("numpy") for r in requirements) and not any("pytest" in r for r in requirements)


def test_reference_solution_scores_full_marks(autograder_zip: Path, tmp_path: Path) -> None:
    root, proc = run_like_gradescope(
        autograder_zip, tmp_path, REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = valid_results(root)
    assert data["score"] == 20 and all(t["status"] == "passed" for t in data["tests"])
    visibility = {t["name"]: t["visibility"] for t in data["tests"]}
    assert visibility["forward_scores"] == "visible" and visibility["digits_accuracy"] == "after_published"
    # before the student's code ran, the reference solution and the checks were removed
    assert not (root / "source" / "reference").exists()


def test_student_template_scores_zero_with_every_check_listed(autograder_zip: Path, tmp_path: Path) -> None:
    template = ROOT / "student_template" / "two_layer_net" / "cs231nHD" / "neural_net.py"
    root, proc = run_like_gradescope(autograder_zip, tmp_path, template)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = valid_results(root)
    declared = load_assignment("two_layer_net", REFERENCE).checks
    assert data["score"] == 0 and [t["name"] for t in data["tests"]] == [c.name for c in declared]
    assert all(t["status"] == "failed" for t in data["tests"])
    assert any(t["visibility"] == "after_published" for t in data["tests"])


def test_missing_file_gets_a_valid_zero_and_says_what_to_upload(autograder_zip: Path, tmp_path: Path) -> None:
    root, proc = run_like_gradescope(autograder_zip, tmp_path, None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = valid_results(root)
    assert data["score"] == 0 and "neural_net.py" in data["output"]


def test_hidden_check_output_shows_its_message_only() -> None:
    hidden = CheckResult(
        "hidden_scores",
        0,
        2,
        "failed",
        "wrong value",
        public=False,
        details=("row 3 of the secret input",),
        location="neural_net.py:40",
        stdout="secret",
    )
    public = CheckResult(
        "forward_scores", 1.5, 3, "failed", "sum |diff| = 1e-3", details=("worst [0, 0]",), location="neural_net.py:12"
    )
    data = gradescope_results(SubmissionResult("s", "two_layer_net", 1.5, 5, "graded", (public, hidden)))
    shown = {t["name"]: t["output"] for t in data["tests"]}
    assert shown["hidden_scores"] == "wrong value"
    assert "worst [0, 0]" in shown["forward_scores"] and "neural_net.py:12" in shown["forward_scores"]
    assert data["score"] == 1.5


def test_text_a_student_controls_is_valid_json_text() -> None:
    check = CheckResult("forward_scores", 0, 3, "error", "ValueError: \ud800\x1b[31mred", stdout="\udcff")
    data = gradescope_results(SubmissionResult("s", "two_layer_net", 0, 3, "graded", (check,)))
    json.dumps(data).encode("utf-8")
    assert "\x1b" not in data["tests"][0]["output"] and "\ufffd" in data["tests"][0]["output"]
