"""The worker starts wherever a user's Python lives."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import REFERENCE, ROOT, make_venv_from_running_environment


def test_grading_from_a_virtualenv_under_tmp(tmp_path: Path) -> None:
    # pytest's tmp_path is under /tmp, which the sandbox replaces with its own tmpfs:
    # the venv's prefix must still be visible inside
    env_dir = tmp_path / "venv"
    python = make_venv_from_running_environment(env_dir)
    folder = shutil.copytree(ROOT / "student_template" / "two_layer_net", tmp_path / "two_layer_net")
    shutil.copyfile(REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py", folder / "cs231nHD" / "neural_net.py")
    done = subprocess.run(
        [str(python), "-m", "grader", "check"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 / 13 points" in done.stdout
    # the grader ran in the new environment, with its own numpy (the one the sandbox can see)
    where = "import sys, numpy; print(sys.prefix); print(numpy.__file__)"
    prefix, numpy_file = subprocess.run(
        [str(python), "-c", where], capture_output=True, text=True, check=True
    ).stdout.split()
    assert Path(prefix) == env_dir and Path(numpy_file).is_relative_to(env_dir)
