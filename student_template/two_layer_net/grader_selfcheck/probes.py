"""Probes of the public checks of `two_layer_net` (run in the sandbox, shown to students).

Each probe gets the submitted namespace `nn` and a context; it returns what the
submission computed and nothing else: the grader compares it outside the sandbox.
The toy model and data are seeded exactly as the handout does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probing import numerical_gradient, snapshot

PARAMS = ("W1", "b1", "W2", "b2")


def toy_model(nn: Any) -> Any:
    np.random.seed(0)
    return nn.TwoLayerNet(4, 10, 3, std=1e-1)


def toy_data() -> tuple[np.ndarray, np.ndarray]:
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return X, y


def forward_scores(nn: Any, ctx: Any) -> Any:
    net = toy_model(nn)
    X, _ = toy_data()
    return snapshot(net.loss(X))


def toy_data_loss(nn: Any, ctx: Any) -> Any:
    """The data loss alone (reg=0): the averaged softmax cross-entropy."""
    net = toy_model(nn)
    X, y = toy_data()
    loss, _ = net.loss(X, y, reg=0.0)
    return loss


def toy_loss(nn: Any, ctx: Any) -> Any:
    net = toy_model(nn)
    X, y = toy_data()
    loss, _ = net.loss(X, y, reg=0.1)
    return loss


def gradients(nn: Any, ctx: Any) -> dict[str, Any]:
    net = toy_model(nn)
    X, y = toy_data()
    _, grads = net.loss(X, y, reg=0.1)
    observed = {f"analytic.{p}": snapshot(grads.get(p)) for p in PARAMS}
    for p in PARAMS:
        observed[f"numeric.{p}"] = numerical_gradient(lambda _: net.loss(X, y, reg=0.1)[0], net.params[p])
    return observed


def toy_training(nn: Any, ctx: Any) -> dict[str, Any]:
    """The handout's toy training call. The grader computes the final loss itself from
    the trained parameters; `value` (your own loss of them) serves `grader check` only."""
    net = toy_model(nn)
    X, y = toy_data()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=1e-5, num_iters=100, verbose=False)
    trained = {p: snapshot(net.params.get(p)) for p in PARAMS}
    loss, _ = net.loss(X, y, reg=1e-5)
    return {**trained, "value": loss, **_shown(stats)}


def predict(nn: Any, ctx: Any) -> Any:
    """Predictions of a net whose weights are given, so `train` plays no part."""
    rng = np.random.default_rng(231)
    net = nn.TwoLayerNet(20, 15, 6)
    for name, shape in (("W1", (20, 15)), ("b1", (15,)), ("W2", (15, 6)), ("b2", (6,))):
        net.params[name] = rng.normal(size=shape)
    X = rng.normal(size=(40, 20))
    return snapshot(net.predict(X))


def stable_loss(nn: Any, ctx: Any) -> Any:
    """The toy loss with output biases near 1000: exp() of such scores overflows unless
    the softmax subtracts each row's maximum first."""
    net = toy_model(nn)
    net.params["b2"] = np.array([1000.0, 1000.5, 999.0])
    X, y = toy_data()
    loss, _ = net.loss(X, y, reg=0.0)
    return loss


def _history(values: Any) -> np.ndarray:
    """A history the submission recorded, as floats, for the report's pictures only (an
    empty array when it is not a list of numbers): never judged, never worth a point."""
    try:
        return np.array([float(v) for v in list(values)[:100_000]], dtype=np.float64)
    except Exception:  # noqa: BLE001 - whatever the submission's train returned, the check goes on
        return np.zeros(0)


def _shown(stats: Any) -> dict[str, np.ndarray]:
    """`display.` values of a training run: the loss history and the train and validation
    accuracy per epoch, as the handout plots them."""
    if not isinstance(stats, dict):
        return {}
    keys = {"loss": "loss_history", "train_acc": "train_acc_history", "val_acc": "val_acc_history"}
    return {f"display.{name}": _history(stats.get(key)) for name, key in keys.items()}
