"""Expectations judge validated arrays and say what was expected, what came, by how much."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from grader.judge.expectations import (
    AccuracyAtLeast,
    AtMost,
    Computed,
    GradientsAgree,
    IsFinite,
    MatchesReference,
    Observed,
    RowsSumTo,
    all_of,
    expectation_from_json,
    observed_array,
    rel_error,
)
from grader.sandbox.wire import Invalid

HANDOUT_SCORES = np.array(
    [[-0.81233741, -1.27654624, -0.70335995], [-0.17129677, -1.18803311, -0.47310444],
     [-0.51590475, -1.01354314, -0.8504215], [-0.15419291, -0.48629638, -0.52901952],
     [-0.00618733, -0.12435261, -0.15226949]]
)  # fmt: skip


def _judge(
    expectation: object,
    got: object,
    expected: object = None,
    public: bool = True,
    secrets: dict[str, np.ndarray] | None = None,
) -> Any:
    reference = None if expected is None else {"value": np.asarray(expected)}
    return expectation.judge({"value": got}, reference, secrets or {}, public)  # type: ignore[attr-defined]


def test_a_miss_reads_like_approx_done_better() -> None:
    got = HANDOUT_SCORES.copy()
    got[0, 0] -= 1e-3
    got[1, 2] += 3e-6
    verdict = _judge(MatchesReference(sum_abs=1e-7), got, HANDOUT_SCORES)
    assert not verdict.passed
    assert verdict.message == "sum of |got - expected| 1.0e-03, needs at most 1e-07"
    assert "x over" not in verdict.message
    assert (verdict.error, verdict.tolerance) == (pytest.approx(1.003e-3), 1e-7)
    assert verdict.details[0] == "2 of 15 elements differ"
    assert verdict.details[1] == "worst [0, 0]: got -0.81333741, expected -0.81233741 (off 1.0e-03)"
    assert verdict.details[2].startswith("next [1, 2]: got -0.47310144")


def test_hidden_miss_shows_the_size_never_the_values() -> None:
    got = HANDOUT_SCORES + 1e-3
    verdict = _judge(MatchesReference(sum_abs=1e-7), got, HANDOUT_SCORES, public=False)
    text = verdict.message + " ".join(verdict.details)
    assert "needs at most 1e-07" in text and "15 of 15 elements differ" in text
    assert "0.81" not in text and "expected -" not in text


@pytest.mark.parametrize(
    ("got", "message"),
    [
        (HANDOUT_SCORES.T, "expected shape (5, 3), got (3, 5)"),
        (np.zeros((0, 3)), "expected shape (5, 3), got (0, 3)"),
        (HANDOUT_SCORES.reshape(-1), "expected shape (5, 3), got (15,)"),
        (np.float64(-0.8), "expected shape (5, 3), got ()"),
        (Invalid("list of 5 items"), "expected a numpy array, got list of 5 items"),
        (Invalid("NoneType"), "expected a numpy array, got NoneType"),
    ],
)
def test_wrong_type_or_shape_is_reported_before_any_number(got: object, message: str) -> None:
    verdict = _judge(MatchesReference(sum_abs=1e-7), got, HANDOUT_SCORES)
    assert not verdict.passed and message in verdict.message


def test_nan_fails_and_says_where() -> None:
    got = HANDOUT_SCORES.copy()
    got[2, 1] = np.nan
    got[4, 0] = np.nan
    verdict = _judge(MatchesReference(max_abs=1.0), got, HANDOUT_SCORES)
    assert not verdict.passed and "got 2 NaN values, first at [2, 1]" in verdict.message


def test_nan_in_a_bound_fails() -> None:
    assert not _judge(AtMost(0.02, what="final training loss"), np.float64(np.nan)).passed


def test_bound_says_by_how_much() -> None:
    verdict = _judge(AtMost(0.02, what="toy training loss"), np.float64(0.0314))
    assert verdict.message == "toy training loss 0.0314, needs at most 0.02 (0.0114 too high)"


def test_gradients_name_the_parameter_and_give_partial_credit() -> None:
    rng = np.random.default_rng(0)
    reference = {f"analytic.{p}": rng.normal(size=(3, 2)) for p in ("W1", "b1")}
    observed = dict(reference)
    observed.update(
        {f"numeric.{p}": v for p, v in (("W1", reference["analytic.W1"]), ("b1", reference["analytic.b1"] * 1.001))}
    )
    verdict = GradientsAgree(rel_error=1e-8).judge(observed, reference, {}, True)
    assert verdict.fraction == 0.5
    assert verdict.message.startswith(
        "1 of 2 wrong: db1: relative error against the numerical gradient 5.0e-04, needs at most 1e-08"
    )
    assert verdict.error == pytest.approx(5e-4, rel=1e-2) and verdict.tolerance == 1e-8


def test_accuracy_uses_labels_the_worker_never_saw() -> None:
    labels = np.array([0, 1, 2, 3] * 25)
    predictions = labels.copy()
    predictions[:20] = 9
    verdict = AccuracyAtLeast(0.85, labels="y_test").judge(
        {"predictions": predictions}, None, {"y_test": labels}, False
    )
    assert not verdict.passed
    assert (
        verdict.message == "accuracy 80.0% on 100 held-out examples, needs at least 85.0% (5.0 percentage points short)"
    )
    assert verdict.error is None  # an accuracy is not an error to draw on a log scale


def test_softmax_properties_combine() -> None:
    expectation = all_of(IsFinite(), RowsSumTo(1.0, 1e-12))
    rows = np.full((4, 5), 0.2)
    assert _judge(expectation, rows).passed
    rows[3, 0] = 0.3
    assert "row 3 sums to 1.1" in _judge(expectation, rows).message


def test_exact_match_for_labels() -> None:
    verdict = _judge(MatchesReference(exact=True), np.array([1, 2, 0]), np.array([1, 2, 3]))
    assert verdict.message == "1 of 3 values differ from the reference"


@pytest.mark.parametrize(
    "expectation",
    [
        MatchesReference(rel=1e-8, partial=True),
        GradientsAgree(1e-7),
        AtMost(0.02, "loss"),
        AccuracyAtLeast(0.9, "y"),
        all_of(IsFinite(), RowsSumTo()),
    ],
)
def test_expectations_round_trip_through_json(expectation: object) -> None:
    assert expectation_from_json(expectation.to_json()) == expectation  # type: ignore[attr-defined]


def test_one_measure_per_comparison() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MatchesReference(sum_abs=1e-7, max_abs=1e-7)


def test_cancellation_near_zero_cannot_fail_correct_gradients() -> None:
    # An entry that cancels to 1e-12 beside entries near 1 carries their rounding error.
    reference = np.array([1.0, -0.5, 1e-12])
    got = reference + np.array([0.0, 0.0, 3e-16])
    assert rel_error(got, reference).max() > 1e-8  # the handout's formula alone fails it
    assert rel_error(got, reference, floor=1e-4).max() < 1e-8
    assert MatchesReference(rel=1e-8, floor=1e-4).judge({"value": got}, {"value": reference}, {}, True).passed
    # a real miss still fails
    assert (
        not MatchesReference(rel=1e-8, floor=1e-4)
        .judge({"value": reference * 1.001}, {"value": reference}, {}, True)
        .passed
    )


def test_integer_valued_float_predictions_count_as_labels() -> None:
    labels = np.array([0, 1, 2, 1])
    accuracy = AccuracyAtLeast(0.75, labels="y")
    assert accuracy.judge({"predictions": labels.astype(float)}, None, {"y": labels}, False).passed
    verdict = accuracy.judge({"predictions": labels + 0.5}, None, {"y": labels}, False)
    assert not verdict.passed and "fractions" in verdict.message


def test_computed_expectation_judges_what_the_grader_computes() -> None:
    def loss_of(observed: Observed, secrets: Mapping[str, np.ndarray]) -> dict[str, Any]:
        w = observed_array(observed, "w", (2,), "trained w")
        return {"value": float(np.sum(w**2))}

    expectation = Computed(loss_of, AtMost(0.02, "final loss"), what="final loss")
    # the submission reports a perfect loss of weights that were never trained: ignored
    assert not expectation.judge({"w": np.array([1.0, 1.0]), "value": np.array(0.0)}, None, {}, True).passed
    assert expectation.judge({"w": np.array([0.01, 0.0])}, None, {}, True).passed
    wrong = expectation.judge({"w": np.ones(3)}, None, {}, True)
    assert not wrong.passed and "trained w: expected shape (2,), got (3,)" in wrong.message
    # students' self-check has no reference code: it judges the reported value instead
    assert expectation.to_json() == AtMost(0.02, "final loss").to_json()
