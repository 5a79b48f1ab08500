"""Probes of the hidden checks of `fcc_sigmoid` (run in the sandbox).

Sizes, inputs and weights are drawn from the batch seed; the training probe reports
predictions on held-out images whose labels stay with the grader.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

PARAMETERS = ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out")


def _net(nn: Any, sizes: tuple[int, ...], rng: np.random.Generator, scale: float | None = None) -> Any:
    n_in, n_h1, n_h2, n_out = sizes
    with contextlib.redirect_stdout(io.StringIO()):
        model = nn.fcc(n_in, n_h1, n_h2, n_out)
    for name, (rows, cols) in {"W_i_h1": (n_h1, n_in), "W_h1_h2": (n_h2, n_h1), "W_h2_o": (n_out, n_h2)}.items():
        setattr(model, name, rng.normal(scale=scale or 1 / np.sqrt(cols), size=(rows, cols)))
    for name, size in {"b_h1": n_h1, "b_h2": n_h2, "b_out": n_out}.items():
        setattr(model, name, rng.normal(scale=0.1, size=size) if scale else np.zeros(size))
    return model


def hidden_network(nn: Any, ctx: Any) -> dict[str, Any]:
    """Forward pass and gradients on sizes and inputs drawn from the batch seed."""
    rng = ctx.rng(21)
    sizes = tuple(int(rng.integers(lo, hi)) for lo, hi in ((4, 12), (3, 10), (3, 10), (3, 8)))
    model = _net(nn, sizes, rng, scale=0.7)
    X = rng.normal(size=(int(rng.integers(4, 12)), sizes[0]))
    y = rng.integers(0, sizes[3], size=X.shape[0])
    observed = {"out": np.array(model.forward_propagation(X), copy=True)}
    model.backprop(y)
    observed.update({p: np.array(getattr(model, "d" + p), copy=True) for p in PARAMETERS})
    return observed


def sgd_training(nn: Any, ctx: Any) -> dict[str, Any]:
    """20 epochs of minibatch SGD (batch 64, lr 1.0) on the embedded digits, from weights
    drawn here (randn / sqrt(fan_in)): losses per epoch and held-out predictions."""
    trainx, trainy, _, _ = np.load(ctx.data_dir / "mnist.npy", allow_pickle=True)
    holdout = np.load(ctx.data_dir / "holdout.npz", allow_pickle=False)["X"]
    rng = ctx.rng(22)
    model = _net(nn, (784, 32, 32, 10), rng)
    np.random.seed(ctx.seed % 2**32)
    with contextlib.redirect_stdout(io.StringIO()):
        losses = nn.train_sgd(model, trainx, trainy, 20, 1.0, batch_size=64)
    predictions = np.argmax(model.forward_propagation(holdout), axis=1)
    return {"losses": np.asarray(losses, dtype=np.float64), "predictions": predictions}
