"""A batch graded on a Dask cluster of several worker processes gives the rows of a local run,
and resumes like one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BATCH_SEED, REFERENCE
from test_resume import Recorder, rows, without_timings, write_batch

from grader.course.batch import GradeOptions, grade

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed: pip install -e '.[test]'")

# the reference, the template, a crash at import, and a known mistake (its diagnosis comes
# from the variants' observations, which the tasks carry)
STUDENTS = ("Ada Lovelace", "Template Only", "Margaret Hamilton", "Donald Knuth")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real LocalCluster: two worker processes, one thread each."""
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        yield str(local.scheduler_address)


def test_dask_run_gives_the_rows_and_gradebook_of_a_local_run(cluster: str, tmp_path: Path) -> None:
    batch, cache = write_batch(tmp_path / "batch", STUDENTS), tmp_path / "cache"
    local, remote = tmp_path / "local", tmp_path / "dask"
    grade(
        batch,
        "two_layer_net",
        GradeOptions(output=local, seed=BATCH_SEED, jobs=2, reference_root=REFERENCE, cache_dir=cache),
    )
    recorder = Recorder()
    options = GradeOptions(output=remote, seed=BATCH_SEED, reference_root=REFERENCE, cache_dir=cache, dask=cluster)
    grade(batch, "two_layer_net", options, on_result=recorder)
    assert sorted(recorder.graded) == sorted(s.replace(" ", "_") for s in STUDENTS)
    assert without_timings(rows(remote / "results.jsonl")) == without_timings(rows(local / "results.jsonl"))
    assert (remote / "gradebook.csv").read_bytes() == (local / "gradebook.csv").read_bytes()

    # resumed on the cluster: nothing to grade again, and the rows stay as they were
    again = Recorder()
    grade(
        batch,
        "two_layer_net",
        GradeOptions(output=remote, seed=BATCH_SEED, reference_root=REFERENCE, cache_dir=cache, dask=cluster),
        on_result=again,
    )
    assert again.graded == []


def test_a_malformed_local_cluster_is_one_clear_error(tmp_path: Path) -> None:
    from grader.errors import GraderError

    batch = write_batch(tmp_path / "batch", STUDENTS[:1])
    options = GradeOptions(
        output=tmp_path / "out",
        seed=BATCH_SEED,
        reference_root=REFERENCE,
        cache_dir=tmp_path / "cache",
        dask="local:none",
    )
    with pytest.raises(GraderError, match="local:N"):
        grade(batch, "two_layer_net", options)


def test_grader_grade_with_dask_local_starts_its_own_cluster(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    batch, out = write_batch(tmp_path / "batch", STUDENTS[:2]), tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(batch),
        "-a",
        "two_layer_net",
        "-o",
        str(out),
        "--seed",
        str(BATCH_SEED),
        "--reference",
        str(REFERENCE),
        "--dask",
        "local:2",
    ]
    done = subprocess.run(
        command,
        env={**os.environ, "GRADER_CACHE": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    table = {
        row["submission"]: row
        for row in map(json.loads, (out / "results.jsonl").read_text(encoding="utf-8").splitlines())
    }
    assert table["Ada_Lovelace"]["score"] == table["Ada_Lovelace"]["max_score"] > 0
    assert table["Template_Only"]["score"] == 0 and len(table) == 2


def test_a_task_refuses_file_names_that_leave_its_folder(tmp_path: Path) -> None:
    import base64
    from dataclasses import asdict

    from grader.course.tasks import grade_task
    from grader.sandbox.limits import Limits

    payload = {
        "assignment": "two_layer_net", "reference_root": str(REFERENCE), "seed": 1, "data_seed": 1,
        "limits": asdict(Limits()), "isolation": "auto", "notebook_mode": "auto", "checks": None,
        "expected": {}, "displays": {}, "mistakes": {},
        "submission": {"id": "mallory", "entry": "neural_net.py", "error": None, "ignored": [], "more": {},
                       "files": {"neural_net.py": "", "../../escaped.py": base64.b64encode(b"x = 1").decode()}},
    }  # fmt: skip
    with pytest.raises(ValueError, match="leaves the submission folder"):
        grade_task(payload)
