"""Known mistakes: each declared variant, handed in as a student, is diagnosed as itself and
as nothing else, through the real sandboxed grading path (workers, probes, cache)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import BATCH_SEED, REFERENCE

from grader.course.assignments import load_assignment
from grader.course.batch import GradeOptions, prepared_context
from grader.course.grading import grade_submission
from grader.intake.discovery import discover
from grader.judge.diagnosis import Mistake, load_mistakes, patched_entry
from grader.judge.reference_values import reference_submission
from grader.results import SubmissionResult


def _hand_in(assignment_name: str, folder: Path, mistake: Mistake | None, extra: tuple[tuple[str, str], ...] = ()) -> Path:
    """A student folder holding the reference's files, with `mistake` (and `extra` patches) made."""
    assignment = load_assignment(assignment_name, REFERENCE)
    reference = reference_submission(assignment)
    assert reference.root is not None and reference.entry is not None
    for rel in reference.files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(reference.root / rel, folder / rel)
    if mistake is not None:
        (folder / reference.entry).write_text(patched_entry(mistake, reference.root / reference.entry), encoding="utf-8")
    entry = folder / reference.entry
    for old, new in extra:
        text = entry.read_text(encoding="utf-8")
        assert text.count(old) == 1
        entry.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def _grade_all(assignment_name: str, folders: dict[str, Path], tmp_path: Path) -> dict[str, SubmissionResult]:
    """Grade each folder on the checks the mistakes concern (the long training checks are
    not among them), two at a time, in one batch context."""
    assignment = load_assignment(assignment_name, REFERENCE)
    concerned = {name for m in load_mistakes(assignment.folder) for name in m.checks}
    checks = tuple(c for c in assignment.checks if c.name in concerned)
    options = GradeOptions(seed=BATCH_SEED, jobs=2, reports=False, reference_root=REFERENCE, cache_dir=tmp_path / "cache")
    with prepared_context(assignment, options, checks) as context:
        submissions = {key: discover(folder, assignment.entry, tmp_path / "unpacked")[0] for key, folder in folders.items()}
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {key: pool.submit(grade_submission, s, context) for key, s in submissions.items()}
            return {key: future.result() for key, future in futures.items()}


def _named(result: SubmissionResult) -> set[str]:
    return {c.diagnosis.mistake for c in result.checks if c.diagnosis is not None and c.diagnosis.mistake}


@pytest.mark.parametrize("assignment_name", ["two_layer_net", "fcc_sigmoid"])
def test_each_known_mistake_is_diagnosed_as_itself_and_as_nothing_else(assignment_name: str, tmp_path: Path) -> None:
    mistakes = [m for m in load_mistakes(REFERENCE / assignment_name) if m.is_variant]
    assert len(mistakes) >= 4
    folders = {m.id: _hand_in(assignment_name, tmp_path / "students" / m.id, m) for m in mistakes}
    folders["correct"] = _hand_in(assignment_name, tmp_path / "students" / "correct", None)
    results = _grade_all(assignment_name, folders, tmp_path)

    assert _named(results["correct"]) == set()
    assert all(c.passed for c in results["correct"].checks)
    for mistake in mistakes:
        result = results[mistake.id]
        assert _named(result) == {mistake.id}, [(c.name, c.status, c.message, c.diagnosis) for c in result.checks]
        diagnosed = next(c for c in result.checks if c.diagnosis is not None and c.diagnosis.mistake == mistake.id)
        # said in the student's words, with the handout line and how to check it
        assert diagnosed.diagnosis is not None
        assert diagnosed.diagnosis.title == mistake.title and diagnosed.diagnosis.handout and diagnosed.diagnosis.how_to_check
        assert diagnosed.status == "failed"


def test_gradients_say_which_parameters_are_right_and_a_pattern_reads_them(tmp_path: Path) -> None:
    """A hidden-layer mistake no variant declares (dW1 twice too large) is read from which
    gradients are wrong: W1 and b1 wrong, W2 and b2 right."""
    doubled = (("grads['W1'] = X.T.dot(dhidden) + reg * W1", "grads['W1'] = 2 * X.T.dot(dhidden) + reg * W1"),
               ("grads['b1'] = dhidden.sum(axis=0)", "grads['b1'] = 2 * dhidden.sum(axis=0)"))  # fmt: skip
    folders = {"doubled": _hand_in("two_layer_net", tmp_path / "students" / "doubled", None, doubled)}
    result = _grade_all("two_layer_net", folders, tmp_path)["doubled"]
    gradients = next(c for c in result.checks if c.name == "gradients")
    assert gradients.diagnosis is not None
    assert gradients.diagnosis.mistake == "hidden_layer_gradients"
    assert set(gradients.diagnosis.wrong) == {"dW1", "db1"} and set(gradients.diagnosis.right) == {"dW2", "db2"}
