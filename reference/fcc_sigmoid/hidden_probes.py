"""Probes of the hidden checks of `fcc_sigmoid` (run in the sandbox, never shown).

Sizes, inputs and weights of `hidden_network` are drawn from the batch seed. The two
training probes drive the student's own `forward_propagation`, `backprop` and
`gradient_step` with the grader's copy of the handout's two training loops (full-batch
gradient descent, then minibatch SGD with batches of 64) and send back the class
predictions that the grader's own forward pass makes from the trained weights, on
held-out images whose labels stay with the grader. Nothing the student's code reports
about itself (a loss, an accuracy) is used.

The layouts are read as in probes.py, by `grader.probing.DenseLayers`; the few lines
naming the handout's parameters stand in both files, since this one must work alone
(students never get it, and a worker may run hidden checks only).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from grader import probing
from grader.probing import DenseLayers, quiet

PARAMETERS = ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out")
# (rows, columns) of each weight in the handout's layout, as indices into the sizes
# (n_input, n_hidden1, n_hidden2, n_out); a bias has the size of its layer's output.
WEIGHTS = {"W_i_h1": (0, 1), "W_h1_h2": (1, 2), "W_h2_o": (2, 3)}
BIASES = {"b_h1": 1, "b_h2": 2, "b_out": 3}
SIZE_NAMES = ("n_input", "n_hidden1", "n_hidden2", "n_out")
# A missing method is named as the handout's class, whatever the student's is called.
method = partial(probing.method, owner="the class fcc")


class Net(DenseLayers):
    """A student's `fcc` of the given sizes, and which layout its weights use."""

    def __init__(self, nn: Any, sizes: tuple[int, int, int, int]) -> None:
        with quiet():  # the constructor prints its size
            model = nn.fcc(*sizes)
        super().__init__(model, sizes, WEIGHTS, BIASES, order=PARAMETERS, made_by=f"fcc{sizes}", size_names=SIZE_NAMES)


TRAIN_SIZES = (784, 32, 32, 10)
GD_ITERATIONS, GD_LEARNING_RATE = 150, 2.0
SGD_EPOCHS, SGD_LEARNING_RATE, BATCH_SIZE = 20, 1.0, 64


def hidden_network(nn: Any, ctx: Any) -> dict[str, Any]:
    """Forward pass and gradients of a net whose sizes and inputs come from the batch seed."""
    rng = ctx.rng(21)
    # n_input and n_hidden1 never coincide, so the layout of W_i_h1 is never ambiguous.
    sizes = (int(rng.integers(8, 14)), int(rng.integers(3, 8)), int(rng.integers(3, 10)), int(rng.integers(3, 8)))
    net = Net(nn, sizes)
    net.set_parameters(rng, 0.7)
    X = rng.normal(size=(int(rng.integers(4, 12)), sizes[0]))
    y = rng.integers(0, sizes[3], size=X.shape[0])
    out = method(net.model, "forward_propagation")(X)
    observed = {"out": np.array(out, dtype=np.float64, copy=True)}
    method(net.model, "backprop")(y)
    observed.update({"d" + p: g for p, g in net.gradients().items()})
    return observed


def _training_net(nn: Any, rng: np.random.Generator) -> Net:
    """A 784-32-32-10 net with weights drawn here: randn / sqrt(inputs), zero biases."""
    net = Net(nn, TRAIN_SIZES)
    for name in PARAMETERS:
        shape = net.canonical_shape(name)
        value = rng.normal(size=shape) / np.sqrt(shape[0]) if name in WEIGHTS else np.zeros(shape)
        setattr(net.model, name, net.to_student(name, value))
    return net


def _steps(net: Net) -> tuple[Any, Any, Any]:
    """The three methods a training step calls, looked up before any training runs."""
    needed = "the handout's training loops call forward_propagation, backprop and gradient_step"
    return (
        method(net.model, "forward_propagation", needed),
        method(net.model, "backprop", needed),
        method(net.model, "gradient_step", needed),
    )


def _data(ctx: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    trainx, trainy, _, _ = np.load(ctx.data_dir / "mnist.npy", allow_pickle=True)
    holdout = np.load(ctx.data_dir / "holdout.npz", allow_pickle=False)["X"]
    return np.asarray(trainx, dtype=np.float64), np.asarray(trainy), holdout


def predictions(net: Net, X: np.ndarray) -> np.ndarray:
    """Class predictions of the grader's own forward pass from the student's trained
    parameters (in the handout's layout): sigmoid, sigmoid, then the largest logit."""
    params = {}
    for name in PARAMETERS:
        value = net.from_student(name, getattr(net.model, name, None))
        if type(value) is not np.ndarray or value.shape != net.canonical_shape(name):
            raise ValueError(f"after training, {name} is not an array shaped like the parameter it was")
        params[name] = value.astype(np.float64)
    h1 = 1.0 / (1.0 + np.exp(-np.clip(X @ params["W_i_h1"] + params["b_h1"], -500, 500)))
    h2 = 1.0 / (1.0 + np.exp(-np.clip(h1 @ params["W_h1_h2"] + params["b_h2"], -500, 500)))
    logits = h2 @ params["W_h2_o"] + params["b_out"]
    labels: np.ndarray = np.argmax(logits, axis=1).astype(np.int64)
    return labels


def gd_training(nn: Any, ctx: Any) -> dict[str, Any]:
    """The handout's full-batch gradient descent: each iteration one forward pass, one
    backprop and one gradient step on all training images."""
    trainx, trainy, holdout = _data(ctx)
    net = _training_net(nn, ctx.rng(22))
    forward_propagation, backprop_, gradient_step = _steps(net)
    losses = []
    for _ in range(GD_ITERATIONS):
        losses.append(_loss(forward_propagation(trainx), trainy))
        backprop_(trainy)
        gradient_step(GD_LEARNING_RATE)
    return {"predictions": predictions(net, holdout), "display.loss": np.array(losses)}


def sgd_training(nn: Any, ctx: Any) -> dict[str, Any]:
    """The handout's minibatch SGD: each epoch a new permutation, cut into batches of 64
    (the last incomplete batch is left out, as the handout's loop does)."""
    trainx, trainy, holdout = _data(ctx)
    rng = ctx.rng(23)
    net = _training_net(nn, rng)
    forward_propagation, backprop_, gradient_step = _steps(net)
    permutation = np.arange(trainx.shape[0])
    losses = []
    for _ in range(SGD_EPOCHS):
        rng.shuffle(permutation)
        for j in range(trainx.shape[0] // BATCH_SIZE):
            batch = permutation[j * BATCH_SIZE : (j + 1) * BATCH_SIZE]
            losses.append(_loss(forward_propagation(trainx[batch]), trainy[batch]))
            backprop_(trainy[batch])
            gradient_step(SGD_LEARNING_RATE)
    return {"predictions": predictions(net, holdout), "display.loss": np.array(losses)}


def _loss(out: Any, y: np.ndarray) -> float:
    """The mean cross-entropy of what forward_propagation returned, for the report's loss
    curve only (never judged: points come from the grader's own predictions); NaN when
    `out` is not a table of probabilities."""
    try:
        probabilities = np.asarray(out, dtype=np.float64)[np.arange(len(y)), y]
        with np.errstate(all="ignore"):
            return float(-np.mean(np.log(probabilities)))
    except Exception:  # noqa: BLE001 - a display value must never fail the check
        return float("nan")
