"""Checks of `two_layer_net` (handout "Exercise 9"): 20 points, as the handout's
implementation part. Trusted: this file never enters the sandbox.

Public checks reproduce the handout's own numbers on its toy model; hidden checks repeat
them on sizes, inputs and `reg` drawn per batch, and train on the embedded digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader import (
    Assignment,
    Check,
    accuracy_at_least,
    at_most,
    gradients_agree,
    matches_reference,
)
from grader.assignment import ManualPart
from grader.datasets import embedded_splits

# Calibrated on the embedded digits: see benchmarks/README.md ("accuracy calibration").
ACCURACY_THRESHOLD = 0.85


def prepare_data(folder: Path, seed: int) -> dict[str, np.ndarray]:
    """Write the digits split for this batch; the test labels stay on the trusted side.

    1200 training images: a multiple of the batch size, so a `train` that keeps cs231n's
    float `iterations_per_epoch` still decays its learning rate (grader/datasets.py).
    """
    parts = embedded_splits(seed)
    np.savez(folder / "digits.npz", X_train=parts.X_train, y_train=parts.y_train, X_val=parts.X_val, y_val=parts.y_val, X_test=parts.X_test)
    return {"y_test": parts.y_test}


assignment = Assignment(
    name="two_layer_net",
    title="Two-layer neural network (Exercise 9)",
    entry="neural_net.py",
    names=("TwoLayerNet",),
    prepare_data=prepare_data,
    checks=(
        Check("forward_scores", 3, matches_reference(sum_abs=1e-7),
              description="scores of the handout's toy model on its toy data"),
        Check("toy_loss", 2, matches_reference(max_abs=1e-12),
              description="loss of the toy model with reg=0.1"),
        Check("gradients", 4, gradients_agree(rel_error=1e-8),
              description="dW1, db1, dW2, db2 with reg=0.1, vs the numerical gradient and the reference"),
        Check("toy_training", 2, at_most(0.02, what="final training loss"),
              description="train on the toy data (lr=0.1, reg=1e-5, 100 iterations)"),
        Check("predict", 1, matches_reference(exact=True),
              description="predicted classes of a net with given weights"),
        Check("stable_loss", 1, matches_reference(rel=1e-9),
              description="loss when scores are near 1000 (a numerically stable softmax)"),
        Check("hidden_scores", 2, matches_reference(max_abs=1e-8), public=False,
              description="scores on other sizes and inputs"),
        Check("hidden_loss", 1, matches_reference(max_abs=1e-10), public=False,
              description="loss on other sizes, inputs and reg"),
        Check("hidden_gradients", 2, matches_reference(rel=1e-8, partial=True), public=False,
              description="gradients on other sizes, inputs and reg"),
        Check("digits_accuracy", 2, accuracy_at_least(ACCURACY_THRESHOLD, labels="y_test"), public=False, timeout=90,
              description="accuracy after the handout's training call on the embedded digits"),
    ),
    # Parts no program grades, marked with `grader grade --marks`: part 1's proof of the
    # gradients (the handout prints no points for it; 5 is this course's choice) and part 2's
    # playground.tensorflow.org experiments ("Bonus 5P": added to the grade, not the maximum).
    manual=(ManualPart("proof", 5), ManualPart("bonus", 5, bonus=True)),
)  # fmt: skip
