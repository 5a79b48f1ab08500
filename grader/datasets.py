"""The embedded default dataset: scikit-learn's handwritten digits in MNIST's shape.

The course handouts train on MNIST, but grading must work where nothing can be
downloaded. scikit-learn ships a real handwritten-digits set (1797 images of 8x8 pixels,
16 grey levels) inside its wheel, so it is always there. `digits_as_mnist` brings those
images to MNIST's layout -- a 20x20 digit centred in a 28x28 canvas, flattened to 784
float64 values in [0, 1] -- so a network written for MNIST (`TwoLayerNet(784, H, 10)`)
runs on it unchanged.

This module is used on the trusted side (to make per-batch splits and keep test labels
out of the sandbox) and by the assignments' data loaders, so it imports nothing else
from `grader`.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "MNIST_CANVAS",
    "MNIST_DIGIT_BOX",
    "DEFAULT_NUM_TEST",
    "DEFAULT_NUM_VALIDATION",
    "Splits",
    "digits_as_mnist",
    "split",
    "embedded_splits",
]

# MNIST's digits are size-normalised to a 20x20 box and centred in a 28x28 image.
MNIST_CANVAS = 28
MNIST_DIGIT_BOX = 20
# The 8x8 digits use grey levels 0..16.
_DIGITS_MAX_VALUE = 16.0

# Default split of the 1797 digits: 1200 train / 297 validation / 300 test. The test
# set is big enough for accuracy to be meaningful to about +-2.5 points. The training
# set is a multiple of the handout's batch size (200) on purpose: cs231n's train() runs
# its once-per-epoch step (accuracy history, learning-rate decay) when
# `it % (num_train / batch_size) == 0`, which with a float quotient like 1197/200 only
# ever fires at it=0. With 1200 images, code written that way and code using integer
# division train identically.
DEFAULT_NUM_TEST = 300
DEFAULT_NUM_VALIDATION = 297


class Splits(NamedTuple):
    """Train/validation/test arrays, in the order the course's loaders return them.

    A NamedTuple so that `X_train, y_train, X_val, y_val, X_test, y_test = ...` works
    exactly like the handout's `load_mnist`.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as (images (N, 8, 8) float64 in 0..16, labels (N,) int64).

    Importing sklearn.datasets costs about a second, which a student's one-second
    `grader check` cannot afford. The data is a plain CSV inside the installed package
    (what `load_digits` itself reads), so it is located without importing scikit-learn
    and parsed with numpy; if the file is not where expected (a future layout), fall
    back to the public `load_digits`.
    """
    spec = importlib.util.find_spec("sklearn")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        csv = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if csv.is_file():
            table = np.loadtxt(csv, delimiter=",", dtype=np.float64)
            images = table[:, :-1].reshape(-1, 8, 8)
            return images, table[:, -1].astype(np.int64)

    from sklearn.datasets import load_digits

    digits = load_digits()
    return (
        np.asarray(digits.images, dtype=np.float64),
        np.asarray(digits.target, dtype=np.int64),
    )


@lru_cache(maxsize=1)
def _digits_as_mnist_cached() -> tuple[np.ndarray, np.ndarray]:
    # Imported here so that importing grader.datasets stays cheap; only whoever
    # actually needs the data pays for scipy.
    from scipy import ndimage

    images, labels = _load_sklearn_digits()

    # Linear (order=1) interpolation keeps strokes smooth without the overshoot of
    # higher-order splines; the leading zoom factor of 1 leaves the image axis alone.
    factor = MNIST_DIGIT_BOX / images.shape[1]
    boxed = ndimage.zoom(images, (1.0, factor, factor), order=1)
    boxed = np.clip(boxed / _DIGITS_MAX_VALUE, 0.0, 1.0)

    canvas = np.zeros((images.shape[0], MNIST_CANVAS, MNIST_CANVAS), dtype=np.float64)
    offset = (MNIST_CANVAS - MNIST_DIGIT_BOX) // 2
    canvas[:, offset : offset + MNIST_DIGIT_BOX, offset : offset + MNIST_DIGIT_BOX] = boxed

    X = canvas.reshape(images.shape[0], MNIST_CANVAS * MNIST_CANVAS)
    # The cache hands the same arrays to every caller: make them read-only so no caller
    # can corrupt another's data by writing into them.
    X.setflags(write=False)
    labels.setflags(write=False)
    return X, labels


def digits_as_mnist() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 scikit-learn digits as MNIST-shaped rows.

    Returns `(X, y)`: X is float64 of shape (1797, 784) with values in [0, 1] (each 8x8
    image upscaled to 20x20 and centred in 28x28, rows in row-major pixel order like
    MNIST's), y is int64 of shape (1797,) with classes 0..9. Deterministic; no network.
    The arrays are fresh, writable copies.
    """
    X, y = _digits_as_mnist_cached()
    return X.copy(), y.copy()


def split(
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    num_test: int = DEFAULT_NUM_TEST,
    num_validation: int = DEFAULT_NUM_VALIDATION,
) -> Splits:
    """Shuffle `(X, y)` with `seed` and cut it into train/validation/test.

    The same seed always gives the same split, so a grading batch can make its own
    split (its hidden test labels) and reproduce it later. The test rows are taken
    first, then the validation rows; the rest is training data.
    """
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]} labels")
    if num_test < 0 or num_validation < 0:
        raise ValueError("num_test and num_validation must be >= 0")
    if num_test + num_validation >= n:
        raise ValueError(
            f"cannot take {num_test} test and {num_validation} validation rows from "
            f"{n} examples and leave any for training"
        )
    order = np.random.default_rng(seed).permutation(n)
    test = order[:num_test]
    val = order[num_test : num_test + num_validation]
    train = order[num_test + num_validation :]
    return Splits(X[train], y[train], X[val], y[val], X[test], y[test])


def embedded_splits(
    seed: int = 0,
    num_test: int = DEFAULT_NUM_TEST,
    num_validation: int = DEFAULT_NUM_VALIDATION,
) -> Splits:
    """`split(*digits_as_mnist(), ...)`: the embedded dataset cut for one seed."""
    X, y = _digits_as_mnist_cached()
    # Fancy indexing in `split` copies, so the cached read-only arrays are never exposed.
    return split(X, y, seed, num_test=num_test, num_validation=num_validation)
