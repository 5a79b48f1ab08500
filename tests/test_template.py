"""The student template: generated from the reference, in sync, and honest about errors."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT

from grader.course.template import selfcheck_differences, strip_solutions, write_template
from grader.errors import TemplateError

ASSIGNMENTS = sorted(p.parent.name for p in REFERENCE.glob("*/checks.py"))


def _assert_same_tree(generated: Path, committed: Path) -> None:
    generated_files = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert generated_files == committed_files, "run `grader template <name>` and commit student_template/"
    for rel in generated_files:
        if rel.endswith("checks.json"):
            # expected values are compared at the tolerance the grader applies to them
            assert selfcheck_differences(json.loads((generated / rel).read_text()), json.loads((committed / rel).read_text())) == [], rel
        else:
            assert filecmp.cmp(generated / rel, committed / rel, shallow=False), f"{rel} is out of date: run `grader template`"


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
    assert template_code.count("raise NotImplementedError(") == reference_code.count("# BEGIN SOLUTION:")
    compile(template, "neural_net.py", "exec")


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
    ],
)
def test_unbalanced_markers_name_file_and_line(source: str, line: int, problem: str) -> None:
    with pytest.raises(TemplateError) as caught:
        strip_solutions(source, "neural_net.py")
    assert f"neural_net.py:{line}" in str(caught.value) and problem in str(caught.value)
