"""grader.probing: the helpers probe authors import inside the sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from grader.probing import (
    DenseLayers,
    MissingDefinition,
    mean_cross_entropy,
    method,
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


def test_mean_cross_entropy_reads_a_list_or_float32_output_in_float64() -> None:
    rows = [[0.25, 0.75], [0.5, 0.5]]
    y = np.array([1, 0])
    assert mean_cross_entropy(rows, y) == mean_cross_entropy(np.array(rows), y)
    # float32 rounds 0.1 differently; read as float64 the loss is that of the rounded value
    single = np.array([[0.1, 0.9]], dtype=np.float32)
    assert mean_cross_entropy(single, np.array([0])) == -np.log(np.float64(np.float32(0.1)))


# --------------------------------------------------------------------------- methods


class Student:
    def forward(self) -> str:
        return "ran"


def test_method_returns_the_students_method() -> None:
    assert method(Student(), "forward")() == "ran"


def test_a_missing_method_is_named_with_its_class_and_why_it_is_needed() -> None:
    with pytest.raises(MissingDefinition) as raised:
        method(Student(), "backward", "training calls it")
    # the worker reports an exception by its type's name: the grader shows this one even in hidden checks
    assert type(raised.value).__name__ == "MissingDefinition" and isinstance(raised.value, AttributeError)
    assert str(raised.value) == "the class Student has no method 'backward' (training calls it)"
    with pytest.raises(MissingDefinition, match=r"^the class fcc has no method 'step' \(the handout asks for it\)$"):
        method(Student(), "step", owner="the class fcc")


# --------------------------------------------------------------------------- dense layers

# a 3-4-2 net: W1 (inputs, hidden), W2 (hidden, outputs); biases by layer output
WEIGHTS = {"W1": (0, 1), "W2": (1, 2)}
BIASES = {"b1": 1, "b2": 2}
SIZES = (3, 4, 2)


class Handout:
    """Weights (inputs, outputs), biases (n,), as the handout lays them out."""

    def __init__(self, sizes: tuple[int, ...] = SIZES) -> None:
        self.W1, self.b1 = np.zeros((sizes[0], sizes[1])), np.zeros(sizes[1])
        self.W2, self.b2 = np.zeros((sizes[1], sizes[2])), np.zeros(sizes[2])

    def forward(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.tanh(X @ self.W1 + self.b1) @ self.W2 + self.b2
        return out


class Transposed:
    """Weights (outputs, inputs), biases as rows (1, n): the other common layout."""

    def __init__(self) -> None:
        self.W1, self.b1 = np.zeros((4, 3)), np.zeros((1, 4))
        self.W2, self.b2 = np.zeros((2, 4)), np.zeros((1, 2))

    def forward(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.tanh(X @ self.W1.T + self.b1) @ self.W2.T + self.b2
        return out


def _layers(model: object) -> DenseLayers:
    return DenseLayers(model, SIZES, WEIGHTS, BIASES, made_by="net(3, 4, 2)", size_names=("n_in", "n_hidden", "n_out"))


def test_both_layouts_compute_the_same_with_the_same_drawn_parameters() -> None:
    handout, transposed = _layers(Handout()), _layers(Transposed())
    assert not handout.transposed and transposed.transposed
    handout.set_parameters(np.random.default_rng(0), 0.5)
    transposed.set_parameters(np.random.default_rng(0), 0.5)
    assert transposed.model.W1.shape == (4, 3) and transposed.model.b1.shape == (1, 4)
    X = np.random.default_rng(1).normal(size=(5, 3))
    assert np.allclose(handout.model.forward(X), transposed.model.forward(X))
    for name in ("W1", "b1", "W2", "b2"):
        assert np.array_equal(
            transposed.from_student(name, getattr(transposed.model, name)), getattr(handout.model, name)
        )


def test_gradients_come_back_in_the_handouts_layout_and_missing_ones_as_none() -> None:
    layers = _layers(Transposed())
    layers.model.dW1 = np.arange(12.0).reshape(4, 3)
    layers.model.db1 = np.ones((1, 4))
    grads = layers.gradients()
    assert np.array_equal(grads["W1"], np.arange(12.0).reshape(4, 3).T) and grads["b1"].shape == (4,)
    assert grads["W2"] is None and grads["b2"] is None
    grads["W1"][0, 0] = 99.0  # a copy: the student's array is not changed through it
    assert layers.model.dW1[0, 0] == 0.0


def test_values_not_shaped_like_the_parameter_go_back_as_they_are() -> None:
    layers = _layers(Handout())
    odd = np.zeros((7, 7))
    back = layers.from_student("W1", odd)
    assert back.shape == (7, 7) and back is not odd
    assert layers.from_student("W1", [1, 2]) == [1, 2]


def test_a_bias_of_an_unexpected_shape_is_given_the_handouts_shape() -> None:
    model = Handout()
    model.b1 = np.zeros(())  # a scalar placeholder
    layers = _layers(model)
    assert layers.to_student("b1", np.arange(4.0)).shape == (4,)


def test_order_sets_the_drawing_order() -> None:
    # the same generator, two orders: the first parameter drawn gets the first numbers
    weights_first, by_layer = (
        _layers(Handout()),
        DenseLayers(Handout(), SIZES, WEIGHTS, BIASES, order=("W1", "b1", "W2", "b2")),
    )
    assert weights_first.names == ("W1", "W2", "b1", "b2")
    weights_first.set_parameters(np.random.default_rng(0), 1.0)
    by_layer.set_parameters(np.random.default_rng(0), 1.0)
    assert np.array_equal(weights_first.model.W1, by_layer.model.W1)
    assert not np.array_equal(weights_first.model.W2[0, 0], by_layer.model.W2[0, 0])


def test_a_first_weight_of_neither_layout_is_named_with_both_accepted_shapes() -> None:
    model = Handout()
    model.W1 = np.zeros((2, 2))
    with pytest.raises(ValueError) as raised:
        _layers(model)
    assert str(raised.value) == (
        "net(3, 4, 2) made W1 of shape (2, 2); the handout's layout is (n_in, n_hidden) = (3, 4), and (n_hidden, n_in) is accepted too"
    )


def test_a_missing_first_weight_lists_the_handouts_weights() -> None:
    model = Handout()
    del model.W1
    with pytest.raises(AttributeError, match=r"^the model made no attribute W1: the handout's weights are W1 and W2$"):
        DenseLayers(model, SIZES, WEIGHTS, BIASES)


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
