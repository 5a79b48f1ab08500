"""`grader check`: what a student sees at home, through the real CLI and worker."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REFERENCE, ROOT

TEMPLATE = ROOT / "student_template" / "two_layer_net"


def _grader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_fresh_template_fails_every_public_check_saying_not_implemented(tmp_path: Path) -> None:
    folder = shutil.copytree(TEMPLATE, tmp_path / "two_layer_net")
    done = _grader("check", cwd=folder)
    assert done.returncode == 1, done.stderr
    assert "0 / 13 points" in done.stdout
    assert done.stdout.count("not implemented") >= 5
    assert "hidden checks worth 7 more points" in done.stdout


def test_completed_assignment_passes_every_public_check(tmp_path: Path) -> None:
    folder = shutil.copytree(TEMPLATE, tmp_path / "two_layer_net")
    shutil.copyfile(REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py", folder / "cs231nHD" / "neural_net.py")
    done = _grader("check", cwd=folder / "cs231nHD")  # from a sub-folder too
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 / 13 points" in done.stdout
    assert "failed" not in done.stdout


def test_one_named_check_and_its_failure_reason(tmp_path: Path) -> None:
    folder = shutil.copytree(TEMPLATE, tmp_path / "two_layer_net")
    solution = (REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    broken = solution.replace("reg_loss = 0.5 * reg *", "reg_loss = reg *")
    (folder / "cs231nHD" / "neural_net.py").write_text(broken)
    done = _grader("check", str(folder), "--check", "toy_loss", cwd=tmp_path)
    assert done.returncode == 1
    assert "toy_loss" in done.stdout and "forward_scores" not in done.stdout
    assert "max |got - expected|" in done.stdout and "expected 1.3037879" in done.stdout


def test_outside_an_assignment_folder_says_where_to_run(tmp_path: Path) -> None:
    done = _grader("check", cwd=tmp_path)
    assert done.returncode == 2
    assert "no assignment here" in done.stderr and "Traceback" not in done.stderr


def test_a_submission_that_cannot_load_is_explained_once(tmp_path: Path) -> None:
    folder = shutil.copytree(TEMPLATE, tmp_path / "two_layer_net")
    solution = (REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    (folder / "cs231nHD" / "neural_net.py").write_text(solution + "\nprint 'done'\n")  # Python 2 syntax
    done = _grader("check", cwd=folder)
    assert done.returncode == 1
    assert done.stdout.count("SyntaxError") == 1, done.stdout
    assert "your code could not run" in done.stdout and "could not run (see below)" in done.stdout
