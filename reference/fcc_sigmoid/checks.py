"""Checks of `fcc_sigmoid` (handout "DL Tutorial 1"): 20 points. Trusted: this file
never enters the sandbox.

The submission is the notebook itself; the graded names are defined in its cells. Every
point is for something the handout asks: the two deltas, `del_sigmoid`, the class `fcc`
(forward pass, backpropagation, gradient step, the parameter count its constructor
prints) and the two training loops, which the grader runs itself on the student's class
(see hidden_probes.py). Weights may be laid out as the handout prints them, (inputs,
outputs), or transposed: the probes read the layout from the constructor (probes.py).

Beside each tolerance: why it is what it is (figures measured on the reference, the
handout's printed solution and a transposed-layout solution; benchmarks/README.md).
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
    gradients_agree,
    is_finite,
    matches_reference,
    rows_sum_to,
)
from grader.datasets import digits_as_mnist

# Deltas, del_sigmoid, the forward pass: values of at most 1 in magnitude computed by a few
# multiplications and sums, so correct code written any other way differs from the
# reference by rounding only (at most about 1e-15); the smallest mistake that matters
# (a missing transpose, a term of the wrong sign) changes a value by far more than 1e-3.
VALUE_TOLERANCE = 1e-12
# backprop: each analytic gradient against a five-point numerical gradient (error ~1e-10
# on this case) and against the reference's, as the handout's relative error
# |a - b| / max(1e-8, |a| + |b|). Correct code stays below 1e-8 on the fixed inputs; a
# wrong gradient (missing sigmoid derivative, sum instead of mean) is off by 1e-2 or more.
GRADIENT_REL_ERROR = 1e-7
# gradient_step: p - lr * dp is one multiplication and one subtraction, so equivalent
# formulas (p += -lr * dp, p -= dp * lr) agree to an ulp of parameters of size ~3
# (~4e-16); a step of the wrong sign or size misses by 1e-2 or more.
STEP_TOLERANCE = 1e-12
# hidden_network: the forward pass and the six gradients on sizes and inputs drawn from
# the batch seed; values of at most ~1, so an absolute limit, which near-zero gradients
# (where a relative error with a 1e-8 floor asks for 16 digits) cannot fail. Correct code
# differs from the reference by rounding (~1e-16); a wrong formula by 1e-4 or more.
HIDDEN_TOLERANCE = 1e-10
# Training (hidden_probes.py): held-out accuracy of the predictions the grader makes from
# the weights the student's methods trained. Over 50 seeds the reference's methods reached
# 0.870-0.970 (gradient descent, 150 iterations) and 0.870-0.973 (SGD, 20 epochs); a class
# whose gradient_step changes nothing stays at 0.057-0.173 (chance is 0.10). 0.7 sits far
# from both, so seeds and rounding cannot move a verdict.
GD_ACCURACY = 0.7
SGD_ACCURACY = 0.7
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
        Check("deltas", 3, matches_reference(max_abs=VALUE_TOLERANCE, partial=True),
              description="delta_last_layer and delta_last_layer_easy_approach: shape (classes, examples), values"),
        Check("del_sigmoid", 1, matches_reference(max_abs=VALUE_TOLERANCE),
              description="derivative of the sigmoid from its output, h * (1 - h)"),
        Check("stable_softmax", 0, all_of(is_finite(), rows_sum_to(1.0, 1e-12)), advice=True,
              description="a forward pass with output logits near 1000 stays finite "
                          "when the softmax subtracts each row's maximum (the handout's adds it, and overflows)"),
        Check("forward", 3, matches_reference(max_abs=VALUE_TOLERANCE, partial=True),
              description="forward_propagation of a seeded 6-5-4-3 net on moderate inputs: h1, h2, out"),
        Check("backprop", 4, gradients_agree(rel_error=GRADIENT_REL_ERROR),
              description="the six gradients backprop stores vs a numerical gradient of the mean cross-entropy, and vs the reference"),
        Check("gradient_step", 2, matches_reference(max_abs=STEP_TOLERANCE, partial=True),
              description="every parameter moves by exactly -learning_rate * its gradient"),
        Check("parameter_count", 1, matches_reference(exact=True),
              description="the number of parameters the constructor prints for 784-400-400-10"),
        Check("hidden_network", 3, matches_reference(max_abs=HIDDEN_TOLERANCE, partial=True), public=False,
              description="forward pass and gradients on other sizes and inputs"),
        Check("gd_training", 1, accuracy_at_least(GD_ACCURACY, labels="holdout_labels"), public=False, timeout=60,
              description="the handout's full-batch gradient descent, run by the grader on your class: held-out accuracy"),
        Check("sgd_training", 2, accuracy_at_least(SGD_ACCURACY, labels="holdout_labels"), public=False, timeout=60,
              description="the handout's minibatch SGD (batches of 64), run by the grader on your class: held-out accuracy"),
    ),
)  # fmt: skip
