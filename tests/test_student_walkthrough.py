"""A student works through each template in handout order, one TODO block at a time.

After writing each part, `grader check` passes the checks that part is for, the checks
passed before keep passing, nothing later passes for free, and no step crashes the harness
(every check runs: a TODO still ahead fails or raises in the student's code, never in ours).
The solutions written in are the reference's own blocks, filled into the template exactly
as `grader template` writes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT

from grader.course.assignments import load_assignment
from grader.course.selfcheck import self_check
from grader.course.template import solution_blocks, student_file

# Each solution block in handout order: how its description starts, and the public checks
# that pass once it is written (given the blocks before it). Advice checks are not listed:
# they are good practice, not a part of the handout.
STEPS: dict[str, list[tuple[str, set[str]]]] = {
    "two_layer_net": [
        ("Compute the class scores", {"forward_scores"}),
        ("Compute the softmax cross-entropy loss", {"toy_data_loss", "toy_loss"}),
        ("Backward pass", {"gradients"}),
        ("Sample a minibatch", set()),
        ("Update every parameter", set()),
        # train() reports accuracy through predict() each epoch: the handout asks for both together
        ("Predict the class", {"toy_training", "predict"}),
    ],
    "fcc_sigmoid": [
        ("the delta through the softmax", set()),
        ("h minus the one-hot labels", {"deltas"}),
        ("dh/dx", {"del_sigmoid"}),
        ("W_i_h1, b_h1", {"parameter_count"}),
        ("store X, h1, h2 and out", {"forward"}),
        ("the gradients of the mean cross-entropy", {"backprop"}),
        ("move every parameter", {"gradient_step"}),
        ("full-batch gradient descent", set()),
        ("minibatch SGD", set()),
    ],
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_student_can_work_through_the_template_check_by_check(tmp_path: Path, name: str) -> None:
    assignment = load_assignment(name, REFERENCE)
    entry = next(assignment.folder.rglob(assignment.entry))
    blocks = (
        solution_blocks(entry.read_text(encoding="utf-8"), entry.name)
        if entry.suffix == ".py"
        else _notebook_blocks(entry)
    )
    steps = STEPS[name]
    assert [b[: len(start)] for b, (start, _) in zip(blocks, steps)] == [start for start, _ in steps] and len(
        blocks
    ) == len(steps), "the reference's solution blocks changed: update STEPS"
    graded = {c.name for c in assignment.public_checks if not c.advice}
    assert set().union(*(checks for _, checks in steps)) >= graded, "every graded public check belongs to a step"

    folder = shutil.copytree(ROOT / "student_template" / name, tmp_path / name)
    target = folder / entry.relative_to(assignment.folder)
    assert target.read_text(encoding="utf-8") == student_file(assignment, entry), "run `grader template` and commit"
    expected: set[str] = set()
    for written, (what, newly) in enumerate([("nothing yet", set()), *steps]):
        target.write_text(student_file(assignment, entry, keep=range(written)), encoding="utf-8")
        result, _ = self_check(folder)
        assert result.status == "graded" and not result.error, f"after '{what}': {result.error}"
        assert all(c.status in ("passed", "failed", "error") for c in result.checks), (
            f"after '{what}': a check timed out"
        )
        expected |= newly & graded
        passing = {c.name for c in result.checks if c.passed} & graded
        why = {c.name: c.message for c in result.checks if c.name in expected - passing}
        assert passing == expected, (
            f"after writing '{what}': passing {sorted(passing)}, expected {sorted(expected)}; {why}"
        )
    # the finished template passes `grader check` as a student runs it
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check"], cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _notebook_blocks(path: Path) -> list[str]:
    import nbformat

    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return [
        b
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code"
        for b in solution_blocks(c.source, f"{path.name} (cell {i + 1})")
    ]
