"""Known mistakes: each declared variant, handed in as a student, is diagnosed as itself and
as nothing else, through the real sandboxed grading path (workers, probes, cache)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import BATCH_SEED, REFERENCE

from grader.assignment import Check
from grader.course.assignments import load_assignment
from grader.course.batch import GradeOptions, prepared_context
from grader.course.grading import grade_submission
from grader.intake.discovery import discover
from grader.judge.diagnosis import KnownMistakes, Mistake, diagnose, load_mistakes, patched_entry
from grader.judge.expectations import MatchesReference
from grader.judge.reference_values import reference_submission
from grader.outputs.report import write_submission_report
from grader.outputs.summary import write_index
from grader.results import SubmissionResult


def _hand_in(
    assignment_name: str, folder: Path, mistake: Mistake | None, extra: tuple[tuple[str, str], ...] = ()
) -> Path:
    """A student folder holding the reference's files, with `mistake` (and `extra` patches) made."""
    assignment = load_assignment(assignment_name, REFERENCE)
    reference = reference_submission(assignment)
    assert reference.root is not None and reference.entry is not None
    for rel in reference.files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(reference.root / rel, folder / rel)
    if mistake is not None:
        (folder / reference.entry).write_text(
            patched_entry(mistake, reference.root / reference.entry), encoding="utf-8"
        )
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
    options = GradeOptions(
        seed=BATCH_SEED, jobs=2, reports=False, reference_root=REFERENCE, cache_dir=tmp_path / "cache"
    )
    with prepared_context(assignment, options, checks) as context:
        submissions = {
            key: discover(folder, assignment.entry, tmp_path / "unpacked")[0] for key, folder in folders.items()
        }
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
        assert (
            diagnosed.diagnosis.title == mistake.title
            and diagnosed.diagnosis.handout
            and diagnosed.diagnosis.how_to_check
        )
        assert diagnosed.status == "failed"

    # What a student and the instructor read: the box in the report (after a trip through
    # results.jsonl's JSON), and each mistake counted on the class page.
    stored = [SubmissionResult.from_json(r.to_json()) for r in results.values()]
    for mistake, result in zip(mistakes, stored):
        html = write_submission_report(result, tmp_path / "reports").read_text(encoding="utf-8")
        assert "Likely mistake" in html and _escaped(mistake.title) in html and _escaped(mistake.how_to_check) in html
    index = write_index(stored, tmp_path / "reports", assignment_name).read_text(encoding="utf-8")
    assert "Likely mistakes across the class" in index
    for mistake in mistakes:
        assert _escaped(mistake.name) in index


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace('"', "&#34;")
    )


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


def test_a_training_check_draws_the_loss_curve_beside_the_reference(tmp_path: Path) -> None:
    """toy_training of a `train` that never updates: the report draws both loss histories
    and both accuracy curves from the numbers the probe sent, with titles and descriptions."""
    frozen = (("param += velocity[name]", "pass  # never updates"),)
    folders = {"frozen": _hand_in("two_layer_net", tmp_path / "students" / "frozen", None, frozen)}
    assignment = load_assignment("two_layer_net", REFERENCE)
    options = GradeOptions(
        seed=BATCH_SEED, jobs=1, reports=False, reference_root=REFERENCE, cache_dir=tmp_path / "cache"
    )
    checks = tuple(c for c in assignment.checks if c.name == "toy_training")
    with prepared_context(assignment, options, checks) as context:
        result = grade_submission(discover(folders["frozen"], assignment.entry, tmp_path / "unpacked")[0], context)
    training = result.checks[0]
    assert training.status == "failed" and training.display is not None
    series = dict(training.display.series)
    assert len(series["loss"]) == 100 and len(series["reference.loss"]) == 100
    assert series["loss"][-1] > 10 * series["reference.loss"][-1]  # the loss never moves
    html = write_submission_report(SubmissionResult.from_json(result.to_json()), tmp_path / "reports").read_text(
        encoding="utf-8"
    )
    assert (
        'id="pictures"' in html
        and "toy_training: training loss" in html
        and "toy_training: classification accuracy" in html
    )
    assert html.count("<desc") >= 2 and "your code: 100 values" in html and "reference: 100 values" in html
    assert "<script" not in html and "http://" not in html.split("</style>")[-1].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


def test_an_overflow_matches_whether_it_gives_inf_or_nan() -> None:
    """An unstable softmax overflows to inf or to NaN depending on how it is written: both
    are the same mistake; a finite wrong value is not."""
    check = Check("stable_loss", 1, MatchesReference(rel=1e-9))
    unstable = Mistake(
        "unstable",
        "unstable softmax",
        "exp() of raw scores overflows",
        "handout line",
        "how to check",
        patches=(("a", "b"),),
    )
    known = KnownMistakes((unstable,), {"unstable": {"stable_loss": {"value": np.array(np.inf)}}})
    reference = {"value": np.array(1.3)}
    for got in (np.inf, np.nan):
        found = diagnose(check, {"value": np.array(got)}, reference, known, {})
        assert found is not None and found.mistake == "unstable"
    assert diagnose(check, {"value": np.array(2.5)}, reference, known, {}) is None
