"""Checks of `fcc_sigmoid` (handout "DL Tutorial 1"): 20 points. Trusted: this file
never enters the sandbox.

The submission is the notebook itself; the graded names are defined in its cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data import write_arrays
from grader import (
    Assignment,
    Check,
    accuracy_at_least,
    all_of,
    decreases,
    gradients_agree,
    is_finite,
    matches_reference,
    rows_sum_to,
)
from grader.datasets import digits_as_mnist

# Calibrated on the reference: 0.923 at worst over 20 seeds; a network whose
# gradient_step does nothing reaches 0.157 at best (benchmarks/README.md).
ACCURACY_THRESHOLD = 0.85
HOLDOUT = 300


def prepare_data(folder: Path, seed: int) -> dict[str, np.ndarray]:
    """`mnist.npy` as the handout loads it, plus held-out images whose labels stay here."""
    X, y = digits_as_mnist()
    order = np.random.default_rng(seed).permutation(len(y))
    held, test, train = order[:HOLDOUT], order[HOLDOUT : 2 * HOLDOUT], order[2 * HOLDOUT :]
    write_arrays(folder / "mnist.npy", (X[train], y[train], X[test], y[test]))
    np.savez(folder / "holdout.npz", X=X[held])
    return {"holdout_labels": y[held]}


assignment = Assignment(
    name="fcc_sigmoid",
    title="Fully connected sigmoid network (DL Tutorial 1)",
    entry="fcc_sigmoid.ipynb",
    names=("fcc",),
    prepare_data=prepare_data,
    checks=(
        Check("deltas", 3, matches_reference(max_abs=1e-12, partial=True),
              description="delta_last_layer and delta_last_layer_easy_approach: shape (classes, examples), values"),
        Check("del_sigmoid", 1, matches_reference(max_abs=1e-12),
              description="derivative of the sigmoid from its output"),
        Check("stable_softmax", 1, all_of(is_finite(), rows_sum_to(1.0, 1e-12)),
              description="forward pass with output logits near 1000: finite probabilities, rows sum to 1"),
        Check("forward", 3, matches_reference(max_abs=1e-12, partial=True),
              description="forward_propagation of a seeded 5-4-3-3 net: h1, h2, out"),
        Check("backprop", 4, gradients_agree(rel_error=1e-7),
              description="the six gradients vs a numerical gradient of the mean cross-entropy, and vs the reference"),
        Check("gradient_step", 2, matches_reference(max_abs=1e-15, partial=True),
              description="every parameter moves by exactly -learning_rate * gradient"),
        Check("parameter_count", 1, matches_reference(exact=True),
              description="the count the constructor prints for 784-400-400-10"),
        Check("hidden_network", 3, matches_reference(rel=1e-9, partial=True), public=False,
              description="forward pass and gradients on other sizes and inputs"),
        Check("sgd_training", 2, all_of(decreases(key="losses"), accuracy_at_least(ACCURACY_THRESHOLD, labels="holdout_labels")),
              public=False, timeout=60, description="20 epochs of minibatch SGD on the embedded digits"),
    ),
)  # fmt: skip
