"""Grading speed, measured by hand (never as timed tests); figures go in README.md here.

    python benchmarks/bench_grading.py notebook-paths   # definitions only vs full run, same notebooks
    python benchmarks/bench_grading.py self-check       # `grader check` wall time, CLI included
    python benchmarks/bench_grading.py batch [N]        # N copies of the example batch, -j 2

Each prints a Markdown table row per measure (median of repeats, with min and max).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"


def _timed(action: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), min(seconds), max(seconds)


def notebook_paths(repeats: int = 3) -> None:
    from grader.course.assignments import load_assignment
    from grader.course.batch import GradeOptions, prepared_context
    from grader.course.grading import grade_submission
    from grader.intake.discovery import discover

    cases = {
        "fcc_sigmoid reference notebook": ("fcc_sigmoid", REFERENCE / "fcc_sigmoid" / "fcc_sigmoid.ipynb"),
        "two_layer_net handout notebook + cs231nHD": ("two_layer_net", REFERENCE / "two_layer_net"),
    }
    print("| notebook | path | score | median s | min s | max s |\n|---|---|---|---|---|---|")
    for label, (name, source) in cases.items():
        assignment = load_assignment(name, REFERENCE)
        with (
            tempfile.TemporaryDirectory() as tmp,
            prepared_context(assignment, GradeOptions(seed=1, reports=False)) as context,
        ):
            folder = Path(tmp) / "student"
            if source.is_dir():
                shutil.copytree(source, folder, ignore=shutil.ignore_patterns("checks.py", "*probes.py", "cs231nHD"))
                (folder / "two_layer_net.ipynb").write_text(_inline_neural_net(source))
            else:
                folder.mkdir()
                shutil.copyfile(source, folder / source.name)
            (submission,) = discover(folder, assignment.entry, Path(tmp) / "work")
            for mode in ("definitions", "full"):
                scores: list[float] = []
                med, low, high = _timed(
                    lambda: scores.append(grade_submission(submission, replace(context, notebook_mode=mode)).score),
                    repeats,
                )
                print(f"| {label} | {mode} | {scores[0]:g} | {med:.2f} | {low:.2f} | {high:.2f} |")


def _inline_neural_net(folder: Path) -> str:
    """The handout notebook with `neural_net.py` pasted into a cell, as students do."""
    import nbformat

    notebook = nbformat.read(folder / "two_layer_net.ipynb", as_version=4)
    source = (folder / "cs231nHD" / "neural_net.py").read_text()
    for cell in notebook.cells:
        if cell.cell_type == "code" and "from cs231nHD.neural_net import TwoLayerNet" in cell.source:
            cell.source = cell.source.replace("from cs231nHD.neural_net import TwoLayerNet", "")
    notebook.cells.insert(1, nbformat.v4.new_code_cell(source))
    return str(nbformat.writes(notebook))


def self_check(repeats: int = 5) -> None:
    print("| folder | median s | min s | max s |\n|---|---|---|---|")
    for name, solution in (("two_layer_net", "cs231nHD/neural_net.py"), ("fcc_sigmoid", "fcc_sigmoid.ipynb")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = shutil.copytree(ROOT / "student_template" / name, Path(tmp) / name)
            shutil.copyfile(REFERENCE / name / solution, folder / solution)
            run = lambda: subprocess.run(
                [sys.executable, "-m", "grader", "check"], cwd=folder, capture_output=True, check=True
            )
            run()  # warm the page cache
            med, low, high = _timed(run, repeats)
            print(f"| {name} (completed, all public checks) | {med:.2f} | {low:.2f} | {high:.2f} |")


def batch(copies: int = 3) -> None:
    sys.path.insert(0, str(ROOT / "examples" / "two_layer_net"))
    import zipfile

    import make_batch

    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "batch.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for copy in range(copies):
                for student, source in make_batch.submissions().items():
                    zf.writestr(f"{student}-{copy}/neural_net.py", source)
        count = copies * len(make_batch.submissions())
        command = [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(archive),
            "-a",
            "two_layer_net",
            "-o",
            f"{tmp}/out",
            "-j",
            "2",
            "--seed",
            "1",
        ]
        subprocess.run(command, capture_output=True, check=True)  # warms the expected-value cache
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        elapsed = time.perf_counter() - start
        print(
            f"| {count} submissions, -j 2, reports included | {elapsed:.1f} s | {elapsed / count:.2f} s per submission |"
        )


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "notebook-paths"
    if what == "notebook-paths":
        notebook_paths()
    elif what == "self-check":
        self_check()
    else:
        batch(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
