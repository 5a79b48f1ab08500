"""Notebook submissions: both assignments, both execution paths, broken notebooks.

Real notebooks, executed in the real worker (definitions only) or by nbclient in a real
Jupyter kernel inside the same sandbox (full run).
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from conftest import REFERENCE, ROOT

from grader.course.assignments import load_assignment
from grader.course.batch import GradeOptions, grade, prepared_context
from grader.course.grading import grade_submission
from grader.intake.discovery import discover
from grader.results import SubmissionResult
from grader.sandbox.limits import Limits

FCC = REFERENCE / "fcc_sigmoid" / "fcc_sigmoid.ipynb"
# The "DL Tutorial 1" handout's printed student solution, transcribed (PDF damage fixed,
# code as printed: a softmax that adds the maximum, and no gradient_step).
HANDOUT_TUTORIAL1 = ROOT / "tests" / "fixtures" / "handout_tutorial1.ipynb"
NEURAL_NET = REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py"
# A cell may take 20 s: generous for `%matplotlib inline` on a busy 2-core machine (under 1 s
# idle), and it bounds how long the `while True` cell below holds the test.
FAST_LIMITS = Limits(cell_timeout=20, notebook_timeout=240, submission_timeout=600)


def _grade_one(folder: Path, assignment: str, mode: str = "auto", limits: Limits = FAST_LIMITS) -> SubmissionResult:
    spec = load_assignment(assignment, REFERENCE)
    options = GradeOptions(seed=7, limits=limits, reports=False, reference_root=REFERENCE)
    with prepared_context(spec, options) as context:
        (submission,) = discover(folder, spec.entry, context.work_root)
        return grade_submission(submission, replace(context, notebook_mode=mode))


def _notebook(path: Path, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# My work")] + [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("mode", ["definitions", "full"])
def test_reference_notebook_earns_full_marks_on_both_paths(tmp_path: Path, mode: str) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copyfile(FCC, folder / "fcc_sigmoid.ipynb")
    result = _grade_one(folder, "fcc_sigmoid", mode)
    assert result.score == result.max_score == 20, [c.message for c in result.checks if not c.passed]
    assert result.graded_as.startswith(
        "notebook (definitions only)" if mode == "definitions" else "notebook (full run)"
    )


def test_handout_printed_solution_gets_the_verdicts_its_code_deserves(tmp_path: Path) -> None:
    folder = tmp_path / "handout"
    folder.mkdir()
    shutil.copyfile(HANDOUT_TUTORIAL1, folder / "fcc_sigmoid.ipynb")
    result = _grade_one(folder, "fcc_sigmoid")
    checks = {c.name: c for c in result.checks}
    passed = {name for name, c in checks.items() if c.passed}
    assert passed == {"deltas", "del_sigmoid", "forward", "backprop", "parameter_count", "hidden_network"}, {
        n: c.message for n, c in checks.items()
    }
    # its softmax adds the maximum: advice, worth nothing either way
    assert checks["stable_softmax"].status == "failed" and checks["stable_softmax"].max_points == 0
    assert "NaN" in checks["stable_softmax"].message
    # the printed class has no gradient_step: that check, and training, which needs it, fail saying so
    assert "no method 'gradient_step'" in checks["gradient_step"].message
    for name in ("gd_training", "sgd_training"):  # hidden: fixed words only (issue 11)
        assert (checks[name].status, checks[name].message) == ("error", "not implemented")
    assert result.score == 15


TRANSPOSED_FCC = '''
class fcc:
    """Weights laid out (outputs, inputs), as some courses write them: a layer is X @ W.T + b."""

    def __init__(self, n_input, n_hidden1, n_hidden2, n_out):
        self.W_i_h1 = np.random.randn(n_hidden1, n_input) / np.sqrt(n_input)
        self.b_h1 = np.zeros(n_hidden1)
        self.W_h1_h2 = np.random.randn(n_hidden2, n_hidden1) / np.sqrt(n_hidden1)
        self.b_h2 = np.zeros(n_hidden2)
        self.W_h2_o = np.random.randn(n_out, n_hidden2) / np.sqrt(n_hidden2)
        self.b_out = np.zeros(n_out)
        print("Number of trainable parameters:", sum(p.size for p in (self.W_i_h1, self.b_h1, self.W_h1_h2, self.b_h2, self.W_h2_o, self.b_out)))

    def forward_propagation(self, X):
        self.X = X
        self.h1 = fcc_one_layer(X, self.W_i_h1.T, self.b_h1, sigmoid)
        self.h2 = fcc_one_layer(self.h1, self.W_h1_h2.T, self.b_h2, sigmoid)
        self.out = fcc_one_layer(self.h2, self.W_h2_o.T, self.b_out, softmax)
        return self.out

    def backprop(self, y):
        n = y.shape[0]
        delta_out = delta_last_layer_easy_approach(self.out, y)
        self.dW_h2_o = delta_out @ self.h2 / n
        self.db_out = delta_out.sum(axis=1) / n
        delta_h2 = (self.W_h2_o.T @ delta_out) * del_sigmoid(self.h2).T
        self.dW_h1_h2 = delta_h2 @ self.h1 / n
        self.db_h2 = delta_h2.sum(axis=1) / n
        delta_h1 = (self.W_h1_h2.T @ delta_h2) * del_sigmoid(self.h1).T
        self.dW_i_h1 = delta_h1 @ self.X / n
        self.db_h1 = delta_h1.sum(axis=1) / n

    def gradient_step(self, learning_rate):
        for name in ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out"):
            setattr(self, name, getattr(self, name) - learning_rate * getattr(self, "d" + name))
'''


def test_transposed_layout_solution_earns_full_marks(tmp_path: Path) -> None:
    notebook = nbformat.read(FCC, as_version=4)
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("class fcc")]
    cell.source = TRANSPOSED_FCC.strip()
    folder = tmp_path / "transposed"
    folder.mkdir()
    nbformat.write(notebook, folder / "fcc_sigmoid.ipynb")
    result = _grade_one(folder, "fcc_sigmoid")
    assert result.score == result.max_score == 20, [c.message for c in result.checks if not c.passed]


def test_template_notebook_earns_zero_saying_not_implemented_in_which_cell() -> None:
    result = _grade_one(ROOT / "student_template" / "fcc_sigmoid", "fcc_sigmoid")
    assert result.status == "graded" and result.score == 0
    for check in result.checks:
        if not check.public:  # hidden: fixed words only (issue 11)
            assert (check.status, check.message, check.location) == ("error", "not implemented", None)
            continue
        assert check.status == "error" and check.message.startswith("not implemented: ")
        # worded as Jupyter shows the notebook: code cells counted, the cell's first line quoted
        assert check.location and re.match(
            r"fcc_sigmoid\.ipynb, line \d+ of code cell \d+, the cell starting `", check.location
        )


def test_magics_failing_cells_and_a_hanging_cell_do_not_stop_the_notebook(tmp_path: Path) -> None:
    source = NEURAL_NET.read_text()
    _notebook(
        tmp_path / "alice" / "two_layer_net.ipynb",
        "%matplotlib inline\n%load_ext autoreload\n%autoreload 2\nimport numpy as np\nimport time",
        "start = time.clock()  # removed in Python 3.8",
        "while True:\n    pass",
        source,
        "net = TwoLayerNet(4, 10, 3)\nprint('made a net')",
    )
    result = _grade_one(tmp_path / "alice", "two_layer_net", mode="full")
    assert result.score == 20, [c.message for c in result.checks if not c.passed]
    assert result.graded_as == "notebook (full run): two_layer_net.ipynb"
    notes = " ".join(result.notes)
    # counted as Jupyter counts them: the Markdown cell first is not a code cell
    assert "code cell 2 raised: AttributeError: module 'time' has no attribute 'clock'" in notes
    assert "code cell 3 timed out" in notes
    assert "TwoLayerNet (code cell 4)" in notes
    statuses = {cell.index: cell.status for cell in result.notebook}
    assert statuses[3] == "error" and statuses[4] == "timeout" and statuses[5] == "ok"


def test_auto_mode_runs_the_notebook_when_definitions_need_computed_globals(tmp_path: Path) -> None:
    # HIDDEN is computed by a call, so the fast path leaves it out and the class fails
    source = NEURAL_NET.read_text().replace(
        "import numpy as np", "import numpy as np\nHIDDEN_SCALE = float(np.sqrt(1.0))", 1
    )
    source = source.replace(
        "hidden = np.maximum(0.0, hidden_pre)", "hidden = np.maximum(0.0, hidden_pre) * HIDDEN_SCALE"
    )
    assert "HIDDEN_SCALE" in source.split("class TwoLayerNet")[1], "the reference changed: update this test's patch"
    _notebook(tmp_path / "bob" / "net.ipynb", source)
    result = _grade_one(tmp_path / "bob", "two_layer_net", mode="auto")
    assert result.graded_as.startswith("notebook (full run)")
    assert result.score == 20


def test_notebook_beside_the_package_is_graded_from_the_py(tmp_path: Path) -> None:
    archive = tmp_path / "carol.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(REFERENCE / "two_layer_net" / "two_layer_net.ipynb", "carol/two_layer_net.ipynb")
        zf.write(NEURAL_NET, "carol/cs231nHD/neural_net.py")
        zf.writestr("carol/cs231nHD/__init__.py", "")
    results = grade(
        archive, "two_layer_net", GradeOptions(output=tmp_path / "out", seed=3, reports=False, reference_root=REFERENCE)
    )
    assert [(r.submission, r.score, r.graded_as) for r in results] == [("carol", 20, "module: cs231nHD/neural_net.py")]


MALFORMED = {
    "invalid_json": b'{"cells": [ {"cell_type": "code", ',
    "binary_junk": bytes(range(256)) * 40,
    "missing_cells": json.dumps({"metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
    "unknown_cell_type": json.dumps(
        {
            "cells": [{"cell_type": "widget", "source": "x", "metadata": {}}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ).encode(),
    "only_markdown": json.dumps(
        {
            "cells": [{"cell_type": "markdown", "source": "hi", "metadata": {}}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ).encode(),
}


def test_malformed_notebooks_get_a_clear_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    for name, content in MALFORMED.items():
        (batch / name).mkdir(parents=True)
        (batch / name / "fcc_sigmoid.ipynb").write_bytes(content)
    huge = nbformat.read(FCC, as_version=4)
    huge.cells[1].outputs = [nbformat.v4.new_output("stream", text="x" * 5_000_000)]
    (batch / "huge_outputs").mkdir()
    nbformat.write(huge, batch / "huge_outputs" / "fcc_sigmoid.ipynb")
    (batch / "good").mkdir()
    shutil.copyfile(FCC, batch / "good" / "fcc_sigmoid.ipynb")
    v3 = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("import numpy as np")])]
    )
    (batch / "version3").mkdir()
    (batch / "version3" / "fcc_sigmoid.ipynb").write_text(nbformat.v3.writes_json(v3))
    results = {
        r.submission: r
        for r in grade(
            batch, "fcc_sigmoid", GradeOptions(output=tmp_path / "out", seed=1, jobs=2, reference_root=REFERENCE)
        )
    }
    assert results["good"].score == 20
    assert results["huge_outputs"].score == 20  # outputs are never executed; the report caps them
    for name in MALFORMED:
        error = results[name].error or ""
        assert "fcc_sigmoid.ipynb" in error and results[name].score == 0, (name, error)
    assert "not a readable notebook" in (results["invalid_json"].error or "")
    assert "no code cells" in (results["only_markdown"].error or "")
    # version 3 is upgraded and graded: it defines nothing, so every check names what is missing
    assert "does not define" in (results["version3"].error or "")
    assert len(list((tmp_path / "out").glob("*.html"))) == len(results) + 1


def test_self_check_in_a_notebook_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = shutil.copytree(ROOT / "student_template" / "fcc_sigmoid", tmp_path / "fcc")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1 and "not implemented" in done.stdout and "0 / 14 points" in done.stdout
    shutil.copyfile(FCC, folder / "fcc_sigmoid.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "14 / 14 points" in done.stdout


def test_check_inside_a_notebook_returns_an_html_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader

    folder = shutil.copytree(ROOT / "student_template" / "fcc_sigmoid", tmp_path / "fcc")
    monkeypatch.chdir(folder)
    report = grader.check("del_sigmoid")
    html = report._repr_html_()
    assert not report.passed
    assert "del_sigmoid" in html and "not implemented" in html and "hidden checks" in html
    assert "<script" not in html


def test_notebook_assignment_graded_from_an_exported_script(tmp_path: Path) -> None:
    """`jupyter nbconvert --to script` output: magics become get_ipython() calls and the
    training runs at top level; the script is graded from its definitions."""
    lines = []
    for cell in nbformat.read(FCC, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.split("\n"):
            if line.startswith("%"):
                name, _, argument = line[1:].partition(" ")
                line = f"get_ipython().run_line_magic({name!r}, {argument!r})"
            lines.append(line)
    folder = tmp_path / "dora"
    folder.mkdir()
    (folder / "fcc_sigmoid.py").write_text("#!/usr/bin/env python\n# coding: utf-8\n" + "\n".join(lines))
    result = _grade_one(folder, "fcc_sigmoid")
    assert result.graded_as == "script (definitions only): fcc_sigmoid.py"
    assert result.score == 20, [c.message for c in result.checks if not c.passed]


def test_a_notebook_under_another_name_is_graded_with_a_note_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copyfile(FCC, folder / "Tutorial1_solution.ipynb")
    result = _grade_one(folder, "fcc_sigmoid", "definitions")
    assert result.score == result.max_score == 20, [c.message for c in result.checks if not c.passed]
    assert any("graded Tutorial1_solution.ipynb" in note for note in result.notes), result.notes


def test_several_notebooks_none_with_the_expected_name_is_an_error_listing_them(tmp_path: Path) -> None:
    folder = tmp_path / "batch" / "alice"
    folder.mkdir(parents=True)
    shutil.copyfile(FCC, folder / "draft.ipynb")
    shutil.copyfile(FCC, folder / "final.ipynb")
    (tmp_path / "batch" / "bob").mkdir()
    shutil.copyfile(FCC, tmp_path / "batch" / "bob" / "fcc_sigmoid.ipynb")
    spec = load_assignment("fcc_sigmoid", REFERENCE)
    found = {s.id: s for s in discover(tmp_path / "batch", spec.entry, tmp_path / "work")}
    submission = found["alice"]
    assert found["bob"].entry == "fcc_sigmoid.ipynb"
    assert submission.entry is None and submission.error is not None
    assert "draft.ipynb" in submission.error and "final.ipynb" in submission.error
