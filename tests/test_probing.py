"""grader.probing: the helpers probe authors import inside the sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from grader.probing import (
    mean_cross_entropy,
    numerical_gradient,
    parameters,
    quiet,
    seeded_global,
    snapshot,
)


def test_snapshot_copies_arrays_and_passes_other_values_through() -> None:
    array = np.arange(3.0)
    kept = snapshot(array)
    array[0] = 99.0
    assert kept[0] == 0.0
    listed = [1, 2]
    assert snapshot(listed) is listed


@pytest.mark.parametrize("five_point", [False, True])
def test_numerical_gradient_matches_the_analytic_one_and_restores_x(five_point: bool) -> None:
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    grad = numerical_gradient(lambda v: float(np.sum(np.sin(v))), x, h=1e-4, five_point=five_point)
    assert np.allclose(grad, np.cos(before), atol=1e-7)
    assert np.array_equal(x, before)


def test_parameters_snapshots_named_attributes() -> None:
    class Model:
        W = np.ones(2)
        dW = np.zeros(2)

    model = Model()
    assert set(parameters(model, ["W"])) == {"W"}
    assert set(parameters(model, ["W"], prefix="d", key="analytic.")) == {"analytic.W"}
    assert parameters(model, ["b"], default=None) == {"b": None}
    with pytest.raises(AttributeError):
        parameters(model, ["b"])


def test_mean_cross_entropy_of_a_certain_prediction_is_zero() -> None:
    assert mean_cross_entropy(np.eye(3), np.arange(3)) == 0.0


def test_quiet_and_seeded_global_leave_no_trace() -> None:
    with quiet() as printed:
        print("784 400 400 10")
    assert "784" in printed.getvalue()
    np.random.seed(5)
    expected_next = np.random.rand()
    np.random.seed(5)
    with seeded_global(0):
        inside = np.random.rand()
    np.random.seed(0)
    assert inside == np.random.rand()
    np.random.seed(5)
    with seeded_global(0):
        np.random.rand()
    assert np.random.rand() == expected_next
