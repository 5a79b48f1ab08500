"""Grading the example batch: the reference, the template and realistic mistakes.

Each mutant in examples/two_layer_net/make_batch.py is the reference with one mistake;
the expectations below follow from what the mistake breaks, per the handout's maths.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader.results import CheckResult, SubmissionResult

PUBLIC_NUMERIC = ("forward_scores", "toy_loss", "gradients", "predict", "stable_loss")


def _by_name(result: SubmissionResult) -> dict[str, CheckResult]:
    return {c.name: c for c in result.checks}


def _passed(result: SubmissionResult, *names: str) -> None:
    checks = _by_name(result)
    for name in names:
        assert checks[name].status == "passed", f"{result.submission}: {name} should pass: {checks[name].message}"


def test_reference_earns_full_marks(graded_example: tuple[Path, dict[str, SubmissionResult]]) -> None:
    _, results = graded_example
    ada = results["Ada Lovelace"]
    assert (ada.score, ada.max_score) == (20, 20)
    assert all(c.status == "passed" for c in ada.checks)


def test_template_earns_zero_and_every_check_says_not_implemented(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    _, results = graded_example
    template = results["Template Only"]
    assert template.status == "graded" and template.score == 0
    for check in template.checks:
        assert check.status == "error"
        if not check.public:  # hidden checks say fixed words only (issue 11)
            assert (check.message, check.location) == ("not implemented", None)
            continue
        assert check.message.startswith("not implemented: ")
        assert check.location and check.location.startswith("neural_net.py:")


def test_missing_relu_mask_loses_only_hidden_layer_gradients(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    result = graded_example[1]["Brian Kernighan"]
    checks = _by_name(result)
    # The mask only enters dW1 and db1: W2 and b2 keep their credit.
    assert checks["gradients"].points == 2 and "dW1" in checks["gradients"].message
    assert checks["hidden_gradients"].points == 1
    _passed(result, "forward_scores", "toy_loss", "predict", "stable_loss", "hidden_scores", "hidden_loss")


def test_regularisation_without_half_loses_loss_and_weight_gradients(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    result = graded_example[1]["Grace Hopper"]
    checks = _by_name(result)
    assert checks["toy_loss"].status == "failed" and "max |got - expected|" in checks["toy_loss"].message
    assert checks["hidden_loss"].status == "failed"
    # Her analytic gradients keep reg * W, which no longer matches her own doubled loss.
    assert checks["gradients"].points == 2
    assert "against the numerical gradient" in checks["gradients"].message
    _passed(result, "forward_scores", "predict", "stable_loss", "hidden_scores")


def test_missing_bias_gradient_is_named_and_costs_its_share(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    result = graded_example[1]["Alan Turing"]
    checks = _by_name(result)
    assert checks["gradients"].points == 3
    assert "db2: expected a numpy array, got NoneType" in checks["gradients"].message
    assert checks["hidden_gradients"].points == 1.5
    # train() indexes grads['b2'] and fails where the student's code does.
    assert checks["toy_training"].status == "error" and "KeyError" in checks["toy_training"].message
    assert checks["toy_training"].location and checks["toy_training"].location.startswith("neural_net.py:")
    _passed(result, "forward_scores", "toy_loss", "predict", "stable_loss", "hidden_scores", "hidden_loss")


def test_softmax_overflow_fails_only_the_stability_check(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    result = graded_example[1]["Edsger Dijkstra"]
    checks = _by_name(result)
    assert checks["stable_loss"].status == "failed"
    assert "infinite" in checks["stable_loss"].message or "NaN" in checks["stable_loss"].message
    # The handout never asks for a stable softmax: advice, shown with its reason, no point lost.
    assert checks["stable_loss"].advice and checks["stable_loss"].max_points == 0
    assert any("not asked by the handout" in d for d in checks["stable_loss"].details)
    assert result.score == result.max_score == 20
    _passed(
        result, "forward_scores", "toy_loss", "gradients", "predict", "hidden_scores", "hidden_loss", "hidden_gradients"
    )


def test_predict_returning_scores_names_both_shapes(graded_example: tuple[Path, dict[str, SubmissionResult]]) -> None:
    result = graded_example[1]["Barbara Liskov"]
    checks = _by_name(result)
    assert checks["predict"].status == "failed"
    assert "expected shape (40,), got (40, 6)" in checks["predict"].message
    assert checks["digits_accuracy"].points == 0
    _passed(result, "forward_scores", "toy_loss", "gradients", "stable_loss")


def test_train_without_updates_fails_training_and_accuracy(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    result = graded_example[1]["Donald Knuth"]
    checks = _by_name(result)
    assert checks["toy_training"].status == "failed" and "needs at most 0.02" in checks["toy_training"].message
    # hidden: fixed words, never the value the submission reached (issue 11)
    assert (checks["digits_accuracy"].status, checks["digits_accuracy"].message) == ("failed", "wrong value")
    _passed(result, *PUBLIC_NUMERIC, "hidden_scores", "hidden_loss", "hidden_gradients")


def test_crash_at_import_scores_zero_with_the_students_line(
    graded_example: tuple[Path, dict[str, SubmissionResult]],
) -> None:
    result = graded_example[1]["Margaret Hamilton"]
    assert result.score == 0 and result.error is not None
    assert "RuntimeError" in result.error and "forgot to remove a debugging stop" in result.error
    assert all(
        c.status == "error" and c.location and c.location.startswith("neural_net.py:")
        for c in result.checks
        if c.public
    )
    assert all(
        (c.status, c.message) == ("error", "not run: the submission did not load")
        for c in result.checks
        if not c.public
    )


def test_python2_syntax_is_called_python2_with_the_line(
    graded_example: tuple[Path, dict[str, SubmissionResult]], example_batch: object
) -> None:
    result = graded_example[1]["Ken Thompson"]
    source = result.source["neural_net.py"].split("\n")
    line = next(i for i, text in enumerate(source, 1) if "print 'iteration" in text)
    assert result.score == 0 and result.error is not None
    assert "Python 2" in result.error and f"neural_net.py:{line}" in result.error


def test_zip_of_submissions_yields_one_row_each(
    graded_example: tuple[Path, dict[str, SubmissionResult]], example_batch: object
) -> None:
    out, results = graded_example
    students = set(example_batch.submissions())  # type: ignore[attr-defined]
    assert set(results) == students
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(students)
    for row in rows:
        assert {"submission", "assignment", "score", "max_score", "status", "error", "checks", "seconds"} <= set(row)
        assert row["status"] in ("graded", "error")
        for check in row["checks"]:
            assert {"name", "points", "max_points", "status", "message"} <= set(check)
    with (out / "gradebook.csv").open(newline="", encoding="utf-8-sig") as f:
        gradebook = list(csv.DictReader(f))
    assert len(gradebook) == len(students)
    assert {row["name"]: float(row["automated"]) for row in gradebook} == {s: r.score for s, r in results.items()}
    assert (out / "index.html").is_file()
    assert len(list(out.glob("*.html"))) == len(students) + 1


@pytest.mark.parametrize("student", ["Margaret Hamilton", "Template Only"])
def test_broken_submissions_do_not_touch_others(
    graded_example: tuple[Path, dict[str, SubmissionResult]], student: str
) -> None:
    # the batch graded the reference to full marks beside every broken one
    assert graded_example[1][student].score == 0
    assert graded_example[1]["Ada Lovelace"].score == 20
