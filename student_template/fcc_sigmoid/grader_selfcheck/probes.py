"""Probes of the public checks of `fcc_sigmoid` (run in the sandbox, shown to students).

Each probe sets up a small seeded case itself (weights assigned, not drawn by the
student's constructor) and returns what the submission computed.

**Layouts.** The handout lays a weight matrix out as (inputs, outputs): `W_i_h1` is
(n_input, n_hidden1) and a layer computes `X @ W + b`. Some courses transpose it,
(outputs, inputs) with `X @ W.T + b`. A probe reads which one the student's constructor
made from the shape of `W_i_h1` (the probes' sizes are all different, so the two cannot
be confused), gives the student weights in that layout, and sends every weight and
gradient back in the handout's layout: a plain transpose, which changes no number, so a
gradient is still compared in the student's own layout. `grader.probing.DenseLayers` does
this; `Net` below only names the handout's parameters and sizes.
"""

from __future__ import annotations

import contextlib
import io
import re
from functools import partial
from typing import Any

import numpy as np

from grader import probing
from grader.probing import DenseLayers, mean_cross_entropy, numerical_gradient, quiet, snapshot

PARAMETERS = ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out")
# (rows, columns) of each weight in the handout's layout, as indices into the sizes
# (n_input, n_hidden1, n_hidden2, n_out); a bias has the size of its layer's output.
WEIGHTS = {"W_i_h1": (0, 1), "W_h1_h2": (1, 2), "W_h2_o": (2, 3)}
BIASES = {"b_h1": 1, "b_h2": 2, "b_out": 3}
SIZE_NAMES = ("n_input", "n_hidden1", "n_hidden2", "n_out")
SIZES = (6, 5, 4, 3)
# A missing method is named as the handout's class, whatever the student's is called.
method = partial(probing.method, owner="the class fcc")


class Net(DenseLayers):
    """A student's `fcc` of the given sizes, and which layout its weights use."""

    def __init__(self, nn: Any, sizes: tuple[int, int, int, int]) -> None:
        with quiet():  # the constructor prints its size
            model = nn.fcc(*sizes)
        super().__init__(model, sizes, WEIGHTS, BIASES, order=PARAMETERS, made_by=f"fcc{sizes}", size_names=SIZE_NAMES)


def loss_gradient(net: Net, X: np.ndarray, y: np.ndarray, name: str, h: float = 1e-3) -> np.ndarray:
    """Five-point central differences of the mean cross-entropy, entry by entry of the
    student's own parameter (accurate to ~1e-10 here, where the two-point formula is not
    safely below the 1e-7 limit)."""
    forward = method(net.model, "forward_propagation")
    return numerical_gradient(
        lambda _: mean_cross_entropy(forward(X), y), getattr(net.model, name), h=h, five_point=True
    )


def deltas(nn: Any, ctx: Any) -> dict[str, Any]:
    rng = np.random.default_rng(13)
    logits = rng.normal(size=(6, 10))
    h = np.exp(logits - logits.max(axis=1, keepdims=True))
    h /= h.sum(axis=1, keepdims=True)
    y = rng.integers(0, 10, size=6)
    return {
        "delta_last_layer": snapshot(nn.delta_last_layer(h.copy(), y)),
        "delta_last_layer_easy_approach": snapshot(nn.delta_last_layer_easy_approach(h.copy(), y)),
    }


def del_sigmoid(nn: Any, ctx: Any) -> Any:
    h = np.linspace(0.0, 1.0, 11).reshape(1, 11).repeat(3, axis=0)
    return snapshot(nn.del_sigmoid(h))


def stable_softmax(nn: Any, ctx: Any) -> Any:
    """The forward pass of a net whose output logits reach about 1000: the handout's
    softmax (adding the maximum) overflows there, one subtracting it does not."""
    rng = np.random.default_rng(17)
    net = Net(nn, SIZES)
    net.set_parameters(rng, 0.8)
    net.model.W_h2_o = net.model.W_h2_o * 1000.0
    return snapshot(method(net.model, "forward_propagation")(rng.normal(size=(6, SIZES[0]))))


def forward(nn: Any, ctx: Any) -> dict[str, Any]:
    """h1, h2 and out of a seeded net on moderate inputs (logits of a few units)."""
    rng = np.random.default_rng(7)
    net = Net(nn, SIZES)
    net.set_parameters(rng, 0.8)
    out = snapshot(method(net.model, "forward_propagation")(rng.normal(size=(7, SIZES[0]))))
    return {"out": out, "h1": snapshot(getattr(net.model, "h1", None)), "h2": snapshot(getattr(net.model, "h2", None))}


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
        observed[f"numeric.{p}"] = net.from_student(p, loss_gradient(net, X, y, p))
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
