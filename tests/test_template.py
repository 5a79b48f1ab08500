"""The student template: generated from the reference, in sync, and honest about errors."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import REFERENCE, ROOT

from grader.course.template import selfcheck_differences, solution_blocks, strip_solutions, write_template
from grader.errors import TemplateError

ASSIGNMENTS = sorted(p.parent.name for p in REFERENCE.glob("*/checks.py"))


def _assert_same_tree(generated: Path, committed: Path) -> None:
    generated_files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file())
    committed_files = sorted(
        p.relative_to(committed).as_posix()
        for p in committed.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert generated_files == committed_files, "run `grader template <name>` and commit student_template/"
    for rel in generated_files:
        if rel.endswith("checks.json"):
            # expected values are compared at the tolerance the grader applies to them
            assert (
                selfcheck_differences(
                    json.loads((generated / rel).read_text()), json.loads((committed / rel).read_text())
                )
                == []
            ), rel
        else:
            assert filecmp.cmp(generated / rel, committed / rel, shallow=False), (
                f"{rel} is out of date: run `grader template`"
            )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_template_is_in_sync_with_the_reference(tmp_path: Path, name: str) -> None:
    generated = write_template(name, tmp_path, REFERENCE)
    _assert_same_tree(generated, ROOT / "student_template" / name)


def test_running_template_twice_changes_nothing(tmp_path: Path) -> None:
    first = write_template("two_layer_net", tmp_path / "a", REFERENCE)
    second = write_template("two_layer_net", tmp_path / "b", REFERENCE)
    _assert_same_tree(first, second)


def test_template_keeps_no_solution_code() -> None:
    reference = (REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    template = (ROOT / "student_template" / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    assert "np.argmax(self.loss(X), axis=1)" in reference
    assert "np.argmax(self.loss(X), axis=1)" not in template
    # the module docstring quotes the markers; the code after it must hold none
    reference_code, template_code = reference.split('"""', 2)[2], template.split('"""', 2)[2]
    assert "# END SOLUTION" not in template_code and "# BEGIN SOLUTION" not in template_code
    assert "STARTER" not in template and "INSTRUCTOR" not in template
    # every block raises, except those whose STARTER lines keep later code running
    starters = reference_code.count("# STARTER: pass")
    blocks = len(solution_blocks(reference, "neural_net.py"))
    assert starters >= 1 and blocks >= 5 and template.count("raise NotImplementedError(") == blocks - starters
    compile(template, "neural_net.py", "exec")


def test_instructor_text_never_reaches_the_template() -> None:
    template = (ROOT / "student_template" / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    for instructor in ("Reference solution", "Solution markers", "the reference loads", "grader template"):
        assert instructor not in template, instructor
    assert '"""Exercise 9: a two-layer fully-connected network (cs231n-derived)."""' in template


def test_backward_pass_starter_leaves_grads_empty_so_the_loss_runs() -> None:
    template = (ROOT / "student_template" / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text()
    backward = template[template.index("grads = {}") : template.index("return loss, grads")]
    assert "# TODO: Backward pass" in backward and backward.strip().endswith("pass")
    assert "raise" not in backward


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_templates_say_how_to_install_the_grader_and_check_work(name: str) -> None:
    folder = ROOT / "student_template" / name
    texts = [nbformat.read(p, as_version=4).cells[0].source for p in sorted(folder.glob("*.ipynb"))]  # type: ignore[no-untyped-call]
    texts += [p.read_text().split('"""', 1)[0] for p in folder.rglob("neural_net.py")]
    assert texts
    for text in texts:
        assert "pip install nn-grader" in text and "grader check" in text and "grader.check()" in text
    if name == "fcc_sigmoid":
        assert "grader data fcc_sigmoid" in texts[0]


def test_grader_data_writes_the_mnist_file_the_notebook_loads(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "data", "fcc_sigmoid", "--reference", str(REFERENCE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # the handout's own first cell
    trainx, trainy, testx, testy = np.load(tmp_path / "mnist.npy", allow_pickle=True)
    assert trainx.shape[1] == testx.shape[1] == 784 and len(trainx) == len(trainy) and len(testx) == len(testy)
    assert 0 <= trainx.min() and trainx.max() <= 1 and set(np.unique(trainy)) == set(range(10))
    # real MNIST where the student has it (Keras' mnist.npz): the same layout, from those images
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        y_train=np.arange(6),
        x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        y_test=np.array([3, 4]),
    )
    done = subprocess.run(
        [sys.executable, "-m", "grader", "data", "fcc_sigmoid", "--reference", str(REFERENCE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    trainx, trainy, testx, testy = np.load(tmp_path / "mnist.npy", allow_pickle=True)
    assert done.returncode == 0 and trainx.shape == (6, 784) and testx.shape == (2, 784) and list(testy) == [3, 4]
    assert np.array_equal(trainx[0], np.load(tmp_path / "mnist.npz")["x_train"][0].reshape(-1) / 255.0)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "data", "two_layer_net", "--reference", str(REFERENCE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "needs no data file" in done.stderr


def test_starter_lines_replace_the_raise_and_instructor_blocks_vanish() -> None:
    source = (
        '# BEGIN INSTRUCTOR\n# STARTER: """For students."""\n"""For the instructor."""\n# END INSTRUCTOR\n'
        "def f(x):\n    y = None\n    # BEGIN SOLUTION: double x\n    # STARTER: pass\n    y = 2 * x\n    # END SOLUTION\n    return y\n"
    )
    assert (
        strip_solutions(source, "f.py")
        == '"""For students."""\ndef f(x):\n    y = None\n    # TODO: double x\n    pass\n    return y\n'
    )
    # a block kept solved loses its markers and STARTER lines, nothing else
    assert (
        strip_solutions(source, "f.py", keep={0})
        == '"""For students."""\ndef f(x):\n    y = None\n    y = 2 * x\n    return y\n'
    )
    assert (
        strip_solutions("x = 1\n# BEGIN INSTRUCTOR\n# secret\n# END INSTRUCTOR\n\ny = 2\n", "g.py")
        == "x = 1\n\ny = 2\n"
    )


def test_template_never_ships_checks_or_hidden_probes() -> None:
    folder = ROOT / "student_template" / "two_layer_net"
    assert not list(folder.rglob("checks.py")) and not list(folder.rglob("hidden_probes.py"))
    spec = json.loads((folder / "grader_selfcheck" / "checks.json").read_text())
    assert all(not c["name"].startswith("hidden") for c in spec["checks"])
    assert spec["hidden"]["count"] >= 1


def test_solution_block_becomes_todo_with_its_description() -> None:
    source = "def f(x):\n    y = 0\n    # BEGIN SOLUTION: double x\n    y = 2 * x\n    # END SOLUTION\n    return y\n"
    assert strip_solutions(source, "f.py") == (
        "def f(x):\n    y = 0\n    # TODO: double x\n    raise NotImplementedError('double x')\n    return y\n"
    )


def test_markers_inside_strings_are_not_markers() -> None:
    source = 'DOC = """\n# BEGIN SOLUTION: not a marker\n"""\nx = 1\n'
    assert strip_solutions(source, "doc.py") == source


@pytest.mark.parametrize(
    ("source", "line", "problem"),
    [
        ("x = 1\n# BEGIN SOLUTION: a\nx = 2\n", 2, "never closed"),
        ("x = 1\n# END SOLUTION\n", 2, "without a BEGIN"),
        ("# BEGIN SOLUTION: a\n# BEGIN SOLUTION: b\n# END SOLUTION\n", 2, "inside the block opened at line 1"),
        ("# STARTER: pass\n", 1, "STARTER outside"),
        ("# BEGIN INSTRUCTOR\n# BEGIN SOLUTION: a\n# END SOLUTION\n# END INSTRUCTOR\n", 2, "never nest"),
        ("# BEGIN INSTRUCTOR\nx = 1\n", 1, "BEGIN INSTRUCTOR is never closed"),
        ("# BEGIN SOLUTION: a\n# END INSTRUCTOR\n", 2, "END INSTRUCTOR without"),
    ],
)
def test_unbalanced_markers_name_file_and_line(source: str, line: int, problem: str) -> None:
    with pytest.raises(TemplateError) as caught:
        strip_solutions(source, "neural_net.py")
    assert f"neural_net.py:{line}" in str(caught.value) and problem in str(caught.value)
