"""Probes of the public checks of `fcc_sigmoid` (run in the sandbox, shown to students).

Each probe sets up a small seeded case itself (weights assigned, not drawn by the
student's constructor) and returns what the submission computed.
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import numpy as np

PARAMETERS = ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out")


def small_net(nn: Any, sizes: tuple[int, int, int, int], rng: np.random.Generator) -> Any:
    """An `fcc` of the given sizes with weights drawn here, so init choices do not matter."""
    n_in, n_h1, n_h2, n_out = sizes
    with contextlib.redirect_stdout(io.StringIO()):  # the constructor prints its size
        model = nn.fcc(n_in, n_h1, n_h2, n_out)
    shapes = {"W_i_h1": (n_h1, n_in), "b_h1": (n_h1,), "W_h1_h2": (n_h2, n_h1), "b_h2": (n_h2,), "W_h2_o": (n_out, n_h2), "b_out": (n_out,)}
    for name, shape in shapes.items():
        setattr(model, name, rng.normal(scale=0.8, size=shape))
    return model


def mean_cross_entropy(out: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(out[np.arange(len(y)), y])))


def numerical_gradient(model: Any, X: np.ndarray, y: np.ndarray, name: str, h: float = 1e-3) -> np.ndarray:
    """Five-point central differences of the mean cross-entropy (accurate to ~1e-9 here,
    where the two-point formula is not below the 1e-7 limit)."""
    param = getattr(model, name)
    grad = np.zeros_like(param, dtype=np.float64)
    for index in np.ndindex(param.shape):
        saved = param[index]
        values = []
        for step in (2 * h, h, -h, -2 * h):
            param[index] = saved + step
            values.append(mean_cross_entropy(model.forward_propagation(X), y))
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
    return {"delta_last_layer": _snapshot(nn.delta_last_layer(h, y)), "delta_last_layer_easy_approach": _snapshot(nn.delta_last_layer_easy_approach(h, y))}


def del_sigmoid(nn: Any, ctx: Any) -> Any:
    h = np.linspace(0.0, 1.0, 11).reshape(1, 11).repeat(3, axis=0)
    return _snapshot(nn.del_sigmoid(h))


def stable_softmax(nn: Any, ctx: Any) -> Any:
    """The forward pass of a net whose output logits reach about 1000: the handout's
    softmax (adding the row maximum) overflows there."""
    rng = np.random.default_rng(17)
    model = small_net(nn, (5, 4, 3, 3), rng)
    model.W_h2_o = model.W_h2_o * 1000.0
    return _snapshot(model.forward_propagation(rng.normal(size=(6, 5))))


def forward(nn: Any, ctx: Any) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    model = small_net(nn, (5, 4, 3, 3), rng)
    X = rng.normal(size=(6, 5))
    out = _snapshot(model.forward_propagation(X))
    return {"out": out, "h1": _snapshot(model.h1), "h2": _snapshot(model.h2)}


def backprop(nn: Any, ctx: Any) -> dict[str, Any]:
    rng = np.random.default_rng(11)
    model = small_net(nn, (5, 4, 3, 3), rng)
    X, y = rng.normal(size=(6, 5)), np.array([0, 1, 2, 2, 1, 0])
    model.forward_propagation(X)
    model.backprop(y)
    observed = {f"analytic.{p}": _snapshot(getattr(model, "d" + p, None)) for p in PARAMETERS}
    for p in PARAMETERS:
        observed[f"numeric.{p}"] = numerical_gradient(model, X, y, p)
    return observed


def gradient_step(nn: Any, ctx: Any) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    model = small_net(nn, (5, 4, 3, 3), rng)
    for p in PARAMETERS:
        setattr(model, "d" + p, rng.normal(size=getattr(model, p).shape))
    model.gradient_step(0.1)
    return {p: _snapshot(getattr(model, p)) for p in PARAMETERS}


def parameter_count(nn: Any, ctx: Any) -> Any:
    """The number the constructor prints for the handout's 784-400-400-10 net."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        nn.fcc(784, 400, 400, 10)
    numbers = re.findall(r"\d+", printed.getvalue().replace(",", ""))
    return int(numbers[-1]) if numbers else printed.getvalue()[-200:]
