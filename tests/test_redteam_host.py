"""Issue 11, the faults outside one batch: `grader check` on a folder with planted code
(class 5), one deadline per submission (class 6), the expected-value cache's MAC (class 7),
leftovers of a killed run (class 6) and the kernel-request file (also).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REFERENCE, ROOT
from redteam import support

from grader.course.assignments import load_assignment
from grader.course.batch import GradeOptions, grade
from grader.judge.reference_values import cache_file, load_cached, save_cached
from grader.sandbox.cgroups import CGROUP_ROOT, Cgroup, cgroups_available, remove_stale_cgroups
from grader.sandbox.layout import remove_stale_work_folders
from grader.sandbox.limits import Limits

TEMPLATE = ROOT / "student_template" / "two_layer_net"
PLANTED = """\
from pathlib import Path
Path({canary!r}).write_text("ran")
from grader import Assignment, Check, at_least
assignment = Assignment(name="two_layer_net", title="", entry="neural_net.py", names=("TwoLayerNet",), checks=())
print("13 / 13 points")
"""


def _grader(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


# -- 5. grader check never imports code from the checked folder or its parents ------------


def test_planted_checks_py_in_the_folder_and_its_parent_never_runs(tmp_path: Path) -> None:
    parent = tmp_path / "course"
    folder = shutil.copytree(TEMPLATE, parent / "two_layer_net")
    canaries = [tmp_path / "canary-folder", tmp_path / "canary-parent", tmp_path / "canary-ref"]
    (folder / "checks.py").write_text(PLANTED.format(canary=str(canaries[0])))
    (parent / "checks.py").write_text(PLANTED.format(canary=str(canaries[1])))
    # a course-looking folder above the student's, as a shared drive might hold
    (parent / "reference" / "two_layer_net").mkdir(parents=True)
    (parent / "reference" / "two_layer_net" / "checks.py").write_text(PLANTED.format(canary=str(canaries[2])))
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE", "GRADER_REFERENCE")}
    done = _grader("check", cwd=folder, env=env)
    assert [c.exists() for c in canaries] == [False, False, False]
    assert done.returncode == 1, done.stdout + done.stderr  # the template's stubs fail
    assert "0 / 13 points" in done.stdout and "not implemented" in done.stdout


def test_a_folder_with_only_a_planted_checks_py_is_no_assignment(tmp_path: Path) -> None:
    folder = tmp_path / "two_layer_net"
    folder.mkdir()
    shutil.copyfile(REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py", folder / "neural_net.py")
    canary = tmp_path / "canary"
    (folder / "checks.py").write_text(PLANTED.format(canary=str(canary)))
    done = _grader("check", cwd=folder)
    assert not canary.exists()
    assert done.returncode == 2 and "no assignment here" in done.stderr


# -- 7. the expected-value cache ------------------------------------------------------------


def test_a_rewritten_cache_entry_is_not_believed(tmp_path: Path) -> None:
    key = tmp_path / "config" / "cache.key"
    path = tmp_path / "cache" / "entry.expected"
    save_cached(path, {"c": {"value": np.arange(3.0)}}, key_file=key)
    assert key.stat().st_mode & 0o777 == 0o600
    loaded = load_cached(path, key_file=key)
    assert loaded is not None
    value = loaded["c"]["value"]
    assert isinstance(value, np.ndarray) and np.array_equal(value, np.arange(3.0))
    data = bytearray(path.read_bytes())
    data[-40] ^= 1  # one bit of the stored arrays
    path.write_bytes(bytes(data))
    assert load_cached(path, key_file=key) is None
    save_cached(path, {"c": {"value": np.zeros(3)}}, key_file=tmp_path / "other.key")  # another key
    assert load_cached(path, key_file=key) is None


def test_the_cache_key_covers_every_reference_file_and_the_versions(tmp_path: Path) -> None:
    root = support.build_assignment(tmp_path / "reference")
    assignment = load_assignment(support.ASSIGNMENT, root)
    before = cache_file(tmp_path, assignment, assignment.checks, 1)
    (assignment.folder / "notes.txt").write_text("a data file changes the key too")
    assert cache_file(tmp_path, assignment, assignment.checks, 1) != before


def test_tests_never_use_the_users_cache() -> None:
    from grader.judge.reference_values import default_cache_dir, default_key_file

    home = Path.home()
    for path in (default_cache_dir(), default_key_file()):
        assert home / ".cache" not in path.parents and home / ".config" not in path.parents, path


# -- 6. one deadline per submission; leftovers of a killed run ----------------------------


SLOW_NOTEBOOK_CELLS = [
    # the fast path runs class bodies: 10 s here, and again in the full run
    "import time\n\nclass Slow:\n    time.sleep(10)\n",
    "SIZE = int('5')  # computed: only a full run defines it\n",
    "def double(x):\n    return x * SIZE\n",
]


def _write_notebook(path: Path, sources: list[str]) -> None:
    cells: list[dict[str, Any]] = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": c}
        for i, c in enumerate(sources)
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_the_full_notebook_run_gets_what_is_left_of_the_submission_deadline(tmp_path: Path) -> None:
    root = tmp_path / "reference"
    folder = root / "slow_nb"
    folder.mkdir(parents=True)
    (folder / "probes.py").write_text(
        "def doubled(nn, ctx):\n    import numpy as np\n    return np.array(nn.double(2.0))\n"
    )
    (folder / "hidden_probes.py").write_text("")
    (folder / "checks.py").write_text(
        "from grader import Assignment, Check, at_least\n"
        "assignment = Assignment(name='slow_nb', title='', entry='slow_nb.ipynb', names=('double',),\n"
        "    checks=(Check('doubled', 1, at_least(0.0), timeout=30),))\n"
    )
    _write_notebook(folder / "slow_nb.ipynb", ["def double(x):\n    return 2 * x\n"])  # the reference: quick
    submission = tmp_path / "slow_nb.ipynb"
    _write_notebook(submission, SLOW_NOTEBOOK_CELLS)
    limits = Limits(submission_timeout=15.0, load_timeout=60.0, notebook_timeout=120.0, cell_timeout=60.0)
    options = GradeOptions(
        output=tmp_path / "out", reports=False, jobs=1, limits=limits, reference_root=root, cache_dir=None
    )
    started = time.monotonic()
    [result] = grade(submission, "slow_nb", options)
    # fast path 10 s, then a full run that would need 10 s more: it gets the 5 s left
    assert result.seconds <= 15.0 + 3.0, result.seconds
    assert time.monotonic() - started < 60


def test_work_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = tmp_path / f"grader-run-{int(dead.stdout)}-abc"
    live = tmp_path / f"grader-run-{os.getpid()}-abc"
    other = tmp_path / "grader-someone-else"
    for folder in (stale, live, other):
        (folder / "job").mkdir(parents=True)
    assert remove_stale_work_folders(tmp_path) == [stale]
    assert [f.exists() for f in (stale, live, other)] == [False, True, True]


@pytest.mark.skipif(not cgroups_available(), reason="needs root and writable cgroup v1 controllers")
def test_cgroups_of_dead_runs_are_removed_and_live_ones_kept() -> None:
    code = "from grader.sandbox.cgroups import Cgroup; from grader.sandbox.limits import Limits; g = Cgroup.create(Limits()); print(g.paths[0].name)"
    made = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )  # dies without removing
    name = made.stdout.strip()
    assert (CGROUP_ROOT / "pids" / "grader" / name).is_dir()
    removed = remove_stale_cgroups()  # what a new run does at start-up
    assert f"pids/grader/{name}" in removed
    assert not (CGROUP_ROOT / "pids" / "grader" / name).exists()
    mine = Cgroup.create(Limits())
    try:
        remove_stale_cgroups()
        assert all(p.is_dir() for p in mine.paths)  # its owner (this process) is alive
    finally:
        mine.remove()


def test_a_notebook_kernel_has_the_workers_memory_limit_and_its_own_request_file(tmp_path: Path) -> None:
    """Full run: the probes run in the kernel, which reports its own address-space limit
    and whether a kernel-request file was left in the host's shared temporary folder."""
    import tempfile

    limit = 900 * 2**20
    root = tmp_path / "reference"
    folder = root / "kernel_nb"
    folder.mkdir(parents=True)
    (folder / "probes.py").write_text(
        "import resource\nimport numpy as np\n\n"
        "def address_space(nn, ctx):\n    return np.array(float(resource.getrlimit(resource.RLIMIT_AS)[0]))\n"
    )
    (folder / "hidden_probes.py").write_text("")
    (folder / "checks.py").write_text(
        "from grader import Assignment, Check, at_least, at_most\n"
        f"assignment = Assignment(name='kernel_nb', title='', entry='kernel_nb.ipynb', names=('f',),\n"
        f"    checks=(Check('address_space', 1, at_most({float(limit)}), timeout=60),\n"
        f"            Check('address_space_floor', 1, at_least({float(limit)}), probe='address_space', timeout=60)))\n"
    )
    _write_notebook(folder / "kernel_nb.ipynb", ["def f():\n    return 1\n"])  # the reference
    submission = tmp_path / "kernel_nb.ipynb"
    _write_notebook(submission, ["def f():\n    return 1\n"])
    shared = Path(tempfile.gettempdir())
    before = set(shared.glob("grader-kernel-request*"))
    limits = Limits(memory_mb=900, load_timeout=120.0, notebook_timeout=120.0, submission_timeout=300.0)
    options = GradeOptions(
        output=tmp_path / "out",
        reports=False,
        jobs=1,
        limits=limits,
        reference_root=root,
        cache_dir=None,
        notebook_mode="full",
    )
    [result] = grade(submission, "kernel_nb", options)
    assert [(c.name, c.status) for c in result.checks] == [
        ("address_space", "passed"),
        ("address_space_floor", "passed"),
    ], [c.message for c in result.checks]
    assert "full run" in result.graded_as
    assert set(shared.glob("grader-kernel-request*")) == before


# -- 1. a report that cannot be written is that student's error row -------------------------


def test_a_report_that_fails_to_write_becomes_the_students_error_row(tmp_path: Path) -> None:
    from grader.outputs.report import report_file_name
    from grader.outputs.report_guard import report_or_error_row
    from grader.results import SubmissionResult

    # text that bypassed every cleaning (a lone surrogate): writing the page raises
    broken = SubmissionResult("bad\ud800name", "a", 5.0, 10.0, "graded", notes=("note \udce9",))
    row = report_or_error_row(broken, tmp_path)
    assert (row.status, row.score) == ("error", 0.0) and row.error and "could not write" in row.error
    page = (tmp_path / report_file_name(broken.submission)).read_text(encoding="utf-8")
    assert "could not write" in page and "\ufffd" in page
