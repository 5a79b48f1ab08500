"""Probes of the hidden checks of `two_layer_net` (run in the sandbox).

Sizes, inputs, weights and `reg` are drawn from `ctx.rng`, seeded from the course seed
(hashed on the trusted side, so the course seed itself never enters the sandbox): the
same for every batch of the assignment, and unknown to a submission that hard-codes the
toy answers. Weights are assigned, not initialised, so a different `std` or init order in the
constructor does not matter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probing import snapshot

PARAMS = ("W1", "b1", "W2", "b2")


def _case(nn: Any, ctx: Any, salt: int) -> tuple[Any, np.ndarray, np.ndarray, float]:
    rng = ctx.rng(salt)
    D, H, C, N = (int(rng.integers(lo, hi)) for lo, hi in ((3, 12), (5, 20), (3, 9), (4, 16)))
    net = nn.TwoLayerNet(D, H, C, std=0.1)
    for name, shape in (("W1", (D, H)), ("b1", (H,)), ("W2", (H, C)), ("b2", (C,))):
        net.params[name] = rng.normal(scale=0.5, size=shape)
    X = rng.normal(scale=rng.uniform(1.0, 8.0), size=(N, D))
    y = rng.integers(0, C, size=N)
    return net, X, y, float(rng.uniform(0.01, 1.0))


def hidden_scores(nn: Any, ctx: Any) -> Any:
    net, X, _, _ = _case(nn, ctx, salt=1)
    return snapshot(net.loss(X))


def hidden_loss(nn: Any, ctx: Any) -> Any:
    net, X, y, reg = _case(nn, ctx, salt=2)
    loss, _ = net.loss(X, y, reg=reg)
    return loss


def hidden_gradients(nn: Any, ctx: Any) -> dict[str, Any]:
    net, X, y, reg = _case(nn, ctx, salt=3)
    _, grads = net.loss(X, y, reg=reg)
    return {p: snapshot(grads.get(p)) for p in PARAMS}


def digits_accuracy(nn: Any, ctx: Any) -> dict[str, Any]:
    """The handout's training call on the embedded digits. It returns the trained
    parameters: the grader predicts the held-out test split (images and labels it keeps
    to itself) with its own forward pass."""
    data = np.load(ctx.data_dir / "digits.npz", allow_pickle=False)
    np.random.seed(ctx.seed % 2**32)
    net = nn.TwoLayerNet(data["X_train"].shape[1], 50, 10)
    stats = net.train(
        data["X_train"], data["y_train"], data["X_val"], data["y_val"],
        num_iters=TRAIN["num_iters"], batch_size=200, learning_rate=TRAIN["learning_rate"],
        learning_rate_decay=0.95, reg=TRAIN["reg"], verbose=False,
    )  # fmt: skip
    return {**{p: snapshot(net.params.get(p)) for p in PARAMS}, **_shown(stats, net)}


# The training call, calibrated on the embedded digits (see checks.py).
TRAIN = {"num_iters": 300, "learning_rate": 0.5, "reg": 1e-3}


def _history(values: Any) -> np.ndarray:
    """A history the submission recorded, as floats, for the report's pictures only."""
    try:
        return np.array([float(v) for v in list(values)[:100_000]], dtype=np.float64)
    except Exception:  # noqa: BLE001 - whatever the submission's train returned, the check goes on
        return np.zeros(0)


def _shown(stats: Any, net: Any) -> dict[str, Any]:
    """`display.` values (never judged): the handout's plots of the run (loss history,
    accuracy per epoch) and its first-layer weights (show_net_weights)."""
    shown: dict[str, Any] = {}
    if isinstance(stats, dict):
        keys = {"loss": "loss_history", "train_acc": "train_acc_history", "val_acc": "val_acc_history"}
        shown = {f"display.{name}": _history(stats.get(key)) for name, key in keys.items()}
    params = getattr(net, "params", None)
    weights = params.get("W1") if isinstance(params, dict) else None
    if type(weights) is np.ndarray and weights.ndim == 2:
        shown["display.W1"] = weights.astype(np.float64, copy=True)
    return shown
