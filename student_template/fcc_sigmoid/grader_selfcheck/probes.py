"""Probes of the public checks of `fcc_sigmoid` (run in the sandbox, shown to students).

Each probe sets up a small seeded case itself (weights assigned, not drawn by the
student's constructor) and returns what the submission computed.

**Layouts.** The handout lays a weight matrix out as (inputs, outputs): `W_i_h1` is
(n_input, n_hidden1) and a layer computes `X @ W + b`. Some courses transpose it,
(outputs, inputs) with `X @ W.T + b`. A probe reads which one the student's constructor
made from the shape of `W_i_h1` (the probes' sizes are all different, so the two cannot
be confused), gives the student weights in that layout, and sends every weight and
gradient back in the handout's layout: a plain transpose, which changes no number, so a
gradient is still compared in the student's own layout.
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import numpy as np

PARAMETERS = ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out")
# (rows, columns) of each weight in the handout's layout, as indices into the sizes
# (n_input, n_hidden1, n_hidden2, n_out); a bias has the size of its layer's output.
WEIGHTS = {"W_i_h1": (0, 1), "W_h1_h2": (1, 2), "W_h2_o": (2, 3)}
BIASES = {"b_h1": 1, "b_h2": 2, "b_out": 3}
SIZES = (6, 5, 4, 3)


class MissingDefinition(AttributeError):
    """A method the handout asks for is missing. Named as the worker's own exception for a
    missing name: the grader then says what is missing, even in a hidden check."""


def method(model: Any, name: str, needed: str = "the handout asks for it") -> Any:
    """`model.<name>`, or `MissingDefinition` naming the missing method and why it is needed."""
    try:
        return getattr(model, name)
    except AttributeError:
        raise MissingDefinition(f"the class fcc has no method {name!r} ({needed})") from None


class Net:
    """A student's `fcc` of the given sizes, and which layout its weights use."""

    def __init__(self, nn: Any, sizes: tuple[int, int, int, int]) -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # the constructor prints its size
            self.model = nn.fcc(*sizes)
        self.sizes = sizes
        n_in, n_h1 = sizes[0], sizes[1]
        if not hasattr(self.model, "W_i_h1"):
            raise AttributeError(f"fcc{sizes} made no attribute W_i_h1: the handout's weights are W_i_h1, W_h1_h2 and W_h2_o")
        shape = np.shape(self.model.W_i_h1)
        if shape not in ((n_in, n_h1), (n_h1, n_in)):
            raise ValueError(f"fcc{sizes} made W_i_h1 of shape {shape}; the handout's layout is (n_input, n_hidden1) = {(n_in, n_h1)}, and (n_hidden1, n_input) is accepted too")
        self.transposed = shape == (n_h1, n_in)
        self.bias_shapes: dict[str, tuple[int, ...]] = {b: tuple(np.shape(getattr(self.model, b, 0.0))) for b in BIASES}

    def canonical_shape(self, name: str) -> tuple[int, ...]:
        """The shape of parameter `name` in the handout's layout."""
        if name in WEIGHTS:
            rows, cols = WEIGHTS[name]
            return (self.sizes[rows], self.sizes[cols])
        return (self.sizes[BIASES[name]],)

    def student_shape(self, name: str) -> tuple[int, ...]:
        """The shape the student's constructor gave parameter `name`."""
        if name in WEIGHTS:
            rows, cols = self.canonical_shape(name)
            return (cols, rows) if self.transposed else (rows, cols)
        shape = self.bias_shapes[name]
        # a bias kept as a row (1, n) is the same bias; anything else gets the handout's (n,)
        return shape if int(np.prod(shape)) == self.sizes[BIASES[name]] else self.canonical_shape(name)

    def to_student(self, name: str, value: np.ndarray) -> np.ndarray:
        """A value in the handout's layout, laid out as the student's parameter `name`."""
        if name in WEIGHTS:
            return np.array(value.T if self.transposed else value, copy=True)
        return np.array(value, copy=True).reshape(self.student_shape(name))

    def from_student(self, name: str, value: Any) -> Any:
        """A copy of the student's parameter or gradient `name` in the handout's layout;
        anything not shaped like the parameter goes back as it is, for the grader to name."""
        if type(value) is not np.ndarray:
            return value
        if value.shape != self.student_shape(name):
            return value.copy()
        if name in WEIGHTS:
            return np.array(value.T if self.transposed else value, copy=True)
        return value.reshape(self.canonical_shape(name)).copy()

    def set_parameters(self, rng: np.random.Generator, scale: float) -> None:
        """Draw every parameter here (handout layout), so init choices do not matter."""
        for name in PARAMETERS:
            setattr(self.model, name, self.to_student(name, rng.normal(scale=scale, size=self.canonical_shape(name))))

    def gradients(self) -> dict[str, Any]:
        """The gradients `backprop` stored, in the handout's layout."""
        return {name: self.from_student(name, getattr(self.model, "d" + name, None)) for name in PARAMETERS}


def mean_cross_entropy(out: Any, y: np.ndarray) -> float:
    """The grader's own loss of the student's output: the mean of -log(out[n, y[n]])."""
    probabilities = np.asarray(out, dtype=np.float64)
    return float(-np.mean(np.log(probabilities[np.arange(len(y)), y])))


def numerical_gradient(net: Net, X: np.ndarray, y: np.ndarray, name: str, h: float = 1e-3) -> np.ndarray:
    """Five-point central differences of the mean cross-entropy, entry by entry of the
    student's own parameter (accurate to ~1e-10 here, where the two-point formula is not
    safely below the 1e-7 limit)."""
    forward = method(net.model, "forward_propagation")
    param = getattr(net.model, name)
    grad = np.zeros(param.shape, dtype=np.float64)
    for index in np.ndindex(param.shape):
        saved = param[index]
        values = []
        for step in (2 * h, h, -h, -2 * h):
            param[index] = saved + step
            values.append(mean_cross_entropy(forward(X), y))
        param[index] = saved
        grad[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def _snapshot(value: Any) -> Any:
    return value.copy() if type(value) is np.ndarray else value


def deltas(nn: Any, ctx: Any) -> dict[str, Any]:
    rng = np.random.default_rng(13)
    logits = rng.normal(size=(6, 10))
    h = np.exp(logits - logits.max(axis=1, keepdims=True))
    h /= h.sum(axis=1, keepdims=True)
    y = rng.integers(0, 10, size=6)
    return {"delta_last_layer": _snapshot(nn.delta_last_layer(h.copy(), y)), "delta_last_layer_easy_approach": _snapshot(nn.delta_last_layer_easy_approach(h.copy(), y))}


def del_sigmoid(nn: Any, ctx: Any) -> Any:
    h = np.linspace(0.0, 1.0, 11).reshape(1, 11).repeat(3, axis=0)
    return _snapshot(nn.del_sigmoid(h))


def stable_softmax(nn: Any, ctx: Any) -> Any:
    """The forward pass of a net whose output logits reach about 1000: the handout's
    softmax (adding the maximum) overflows there, one subtracting it does not."""
    rng = np.random.default_rng(17)
    net = Net(nn, SIZES)
    net.set_parameters(rng, 0.8)
    net.model.W_h2_o = net.model.W_h2_o * 1000.0
    return _snapshot(method(net.model, "forward_propagation")(rng.normal(size=(6, SIZES[0]))))


def forward(nn: Any, ctx: Any) -> dict[str, Any]:
    """h1, h2 and out of a seeded net on moderate inputs (logits of a few units)."""
    rng = np.random.default_rng(7)
    net = Net(nn, SIZES)
    net.set_parameters(rng, 0.8)
    out = _snapshot(method(net.model, "forward_propagation")(rng.normal(size=(7, SIZES[0]))))
    return {"out": out, "h1": _snapshot(getattr(net.model, "h1", None)), "h2": _snapshot(getattr(net.model, "h2", None))}


def backprop(nn: Any, ctx: Any) -> dict[str, Any]:
    """The six gradients `backprop` stores, and the numerical gradient of each."""
    rng = np.random.default_rng(11)
    net = Net(nn, SIZES)
    net.set_parameters(rng, 0.8)
    X, y = rng.normal(size=(7, SIZES[0])), np.array([0, 1, 2, 2, 1, 0, 2])
    method(net.model, "forward_propagation")(X)
    method(net.model, "backprop")(y)
    observed = {f"analytic.{p}": g for p, g in net.gradients().items()}
    for p in PARAMETERS:
        observed[f"numeric.{p}"] = net.from_student(p, numerical_gradient(net, X, y, p))
    return observed


def gradient_step(nn: Any, ctx: Any) -> dict[str, Any]:
    """Every parameter after `gradient_step(0.1)` from gradients set here."""
    rng = np.random.default_rng(5)
    net = Net(nn, SIZES)
    net.set_parameters(rng, 0.8)
    for p in PARAMETERS:
        setattr(net.model, "d" + p, net.to_student(p, rng.normal(size=net.canonical_shape(p))))
    method(net.model, "gradient_step")(0.1)
    return {p: net.from_student(p, getattr(net.model, p, None)) for p in PARAMETERS}


def parameter_count(nn: Any, ctx: Any) -> Any:
    """The number the constructor prints for the handout's 784-400-400-10 net."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        nn.fcc(784, 400, 400, 10)
    numbers = re.findall(r"\d+", printed.getvalue().replace(",", ""))
    return int(numbers[-1]) if numbers else printed.getvalue()[-200:]
