"""Checks of `two_layer_net` (handout "Exercise 9"): 20 points, as the handout's
implementation part. Trusted: this file never enters the sandbox.

Public checks reproduce the handout's own numbers on its toy model; hidden checks repeat
them on sizes, inputs and `reg` drawn from the course seed, and train on the embedded
digits. Every point is for something the handout asks; `stable_loss` (a numerically
stable softmax, which the handout never asks for) is advice worth 0 points. Its point
went to `toy_data_loss`: the handout asks for "the data and regularization loss", and
grading the data loss alone gives its share to a solution whose regularisation is off.

The grader computes what it grades: the training checks receive the trained parameters,
and the final loss and the test accuracy are computed here, with the reference's own
forward pass, never taken from a history or a `predict` the submission reports.

Why each tolerance is what it is (the property test, tests/test_fairness.py, runs
correct variants and known bugs through these checks on 1,000 seeds):
- forward_scores, sum |diff| <= 1e-7: the handout's own promise ("We get < 1e-7").
  Correct code in any summation order differs by ~1e-15; the smallest bug there (no
  ReLU) by more than 1.
- toy_data_loss, toy_loss, max |diff| <= 1e-12: the loss is ~1.3 and a reordered sum
  moves its last bits (~1e-15); the `reg * sum W^2` convention moves it by ~0.05 and a
  softmax over the wrong axis by ~0.3.
- gradients, relative error <= 1e-8 (the handout's own bound) with a floor of
  GRADIENT_FLOOR times the largest value compared: the centred numerical gradient
  (h = 1e-5) carries ~1e-11 of rounding noise, which an entry that cancels to ~1e-6
  cannot meet relative to itself; against the largest gradient (~0.1-1) it can.
- hidden_scores max |diff| <= 1e-8, hidden_loss <= 1e-10: scores reach ~50 on the hidden
  inputs (rounding ~1e-13), the loss ~10 (rounding ~1e-14); every bug above misses by
  more than 1e-3.
- hidden_gradients, relative error <= 1e-8 with the same floor: analytic gradients vs
  the reference's only (no numerical noise); per-example loops differ by ~1e-15.
- predict, exact: class labels (integer-valued floats count, the comparison is by value).
- toy_training, final loss <= 0.02: the handout's "You should achieve a training loss
  less than 0.02"; the reference reaches ~0.017 on the whole toy set, an untrained net ~1.1.
- digits_accuracy >= ACCURACY_THRESHOLD: see benchmarks/README.md.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader import Assignment, Check, accuracy_at_least, at_most, gradients_agree, matches_reference
from grader.assignment import ManualPart
from grader.datasets import embedded_splits
from grader.judge.expectations import Computed, Observed, observed_array

HERE = Path(__file__).resolve().parent
# Calibrated on the embedded digits: see benchmarks/README.md ("accuracy calibration").
ACCURACY_THRESHOLD = 0.85
# The relative error's floor as a fraction of the largest value compared (see above).
GRADIENT_FLOOR = 1e-4
TOY_REG = 1e-5  # the handout's toy training call
DIGITS_HIDDEN = 50  # hidden_probes.digits_accuracy's network: TwoLayerNet(784, 50, 10)
DIGITS_CLASSES = 10


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Trusted code only: the reference model and the public probes' toy data. Loaded under
# private names, so no `cs231nHD` enters this process's sys.modules.
_REFERENCE = _load(HERE / "cs231nHD" / "neural_net.py", "_two_layer_net_reference_model")


def _toy_data() -> tuple[np.ndarray, np.ndarray]:
    state = np.random.get_state()  # the handout seeds the global generator; keep ours
    try:
        X, y = _load(HERE / "probes.py", "_two_layer_net_reference_probes").toy_data()
    finally:
        np.random.set_state(state)
    return X, y


TOY_X, TOY_Y = _toy_data()


def _reference_net(observed: Observed, D: int, H: int, C: int) -> Any:
    """The reference's network holding the parameters the submission trained."""
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
    net = _REFERENCE.TwoLayerNet(D, H, C)
    net.params = {name: observed_array(observed, name, shape, f"trained {name}") for name, shape in shapes.items()}
    return net


def toy_training_loss(observed: Observed, secrets: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The loss of the trained toy model on the toy data, by the reference's loss."""
    loss, _ = _reference_net(observed, TOY_X.shape[1], 10, 3).loss(TOY_X, TOY_Y, reg=TOY_REG)
    return {"value": loss}


def digits_predictions(observed: Observed, secrets: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Classes of the held-out test images by the reference's forward pass."""
    X_test = secrets["X_test"]
    return {"predictions": _reference_net(observed, X_test.shape[1], DIGITS_HIDDEN, DIGITS_CLASSES).predict(X_test)}


def prepare_data(folder: Path, seed: int) -> dict[str, np.ndarray]:
    """Write the digits split for this seed; the test images and labels stay here.

    1200 training images: a multiple of the batch size, so a `train` that keeps cs231n's
    float `iterations_per_epoch` still decays its learning rate (grader/datasets.py).
    """
    parts = embedded_splits(seed)
    np.savez(folder / "digits.npz", X_train=parts.X_train, y_train=parts.y_train, X_val=parts.X_val, y_val=parts.y_val)
    return {"X_test": parts.X_test, "y_test": parts.y_test}


assignment = Assignment(
    name="two_layer_net",
    title="Two-layer neural network (Exercise 9)",
    entry="neural_net.py",
    names=("TwoLayerNet",),
    prepare_data=prepare_data,
    checks=(
        Check("forward_scores", 3, matches_reference(sum_abs=1e-7),
              description="scores of the handout's toy model on its toy data"),
        Check("toy_data_loss", 1, matches_reference(max_abs=1e-12),
              description="data loss of the toy model (reg=0): the averaged softmax cross-entropy"),
        Check("toy_loss", 2, matches_reference(max_abs=1e-12),
              description="loss of the toy model with reg=0.1: data loss plus 0.5 * reg * (sum W1^2 + sum W2^2)"),
        Check("gradients", 4, gradients_agree(rel_error=1e-8, floor=GRADIENT_FLOOR),
              description="dW1, db1, dW2, db2 with reg=0.1, vs the numerical gradient and the reference"),
        Check("toy_training", 2,
              Computed(toy_training_loss, at_most(0.02, what="final training loss"), what="final training loss"),
              description="train on the toy data (lr=0.1, reg=1e-5, 100 iterations); the grader computes the loss of the trained weights"),
        Check("predict", 1, matches_reference(exact=True),
              description="predicted classes of a net with given weights"),
        Check("stable_loss", 0, matches_reference(rel=1e-9), advice=True,
              description="a numerically stable softmax: the loss stays finite when scores are near 1000 "
                          "(subtract each row's maximum before exp())"),
        Check("hidden_scores", 2, matches_reference(max_abs=1e-8), public=False,
              description="scores on other sizes and inputs"),
        Check("hidden_loss", 1, matches_reference(max_abs=1e-10), public=False,
              description="loss on other sizes, inputs and reg"),
        Check("hidden_gradients", 2, matches_reference(rel=1e-8, partial=True, floor=GRADIENT_FLOOR), public=False,
              description="gradients on other sizes, inputs and reg"),
        Check("digits_accuracy", 2,
              Computed(digits_predictions, accuracy_at_least(ACCURACY_THRESHOLD, labels="y_test"), what="test accuracy"),
              public=False, timeout=90,
              description="accuracy of the weights the handout's training call learns on the embedded digits"),
    ),
    # Parts no program grades, marked with `grader grade --marks`: part 1's proof of the
    # gradients (the handout prints no points for it; 5 is this course's choice) and part 2's
    # playground.tensorflow.org experiments ("Bonus 5P": added to the grade, not the maximum).
    manual=(ManualPart("proof", 5), ManualPart("bonus", 5, bonus=True)),
)  # fmt: skip
