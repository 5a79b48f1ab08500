"""Project-level promises: the public API, typing, the README's commands, CI."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

import grader


def test_public_api_is_this_short_list() -> None:
    assert grader.__all__ == [
        "Assignment", "Check", "CheckResult", "GradeOptions", "GraderError", "Limits", "SubmissionResult",
        "accuracy_at_least", "all_of", "at_least", "at_most", "check", "decreases", "grade",
        "gradients_agree", "is_finite", "matches_reference", "rows_sum_to", "self_check",
    ]  # fmt: skip
    for name in grader.__all__:
        assert getattr(grader, name) is not None


def test_worker_imports_nothing_heavy() -> None:
    # start-up is paid per submission: the worker must not pull in reports, CLI or notebooks
    code = "import sys, grader.worker.runner; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not loaded & {"jinja2", "click", "rich", "nbformat", "nbclient", "sklearn", "grader.course.batch", "grader.outputs.report"}


def _readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md must open with a bash code block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_two_setup_commands_and_ci_runs_the_second() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_grader_package_is_typed_strictly() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
