"""Data for `fcc_sigmoid` (handout "DL Tutorial 1"): the embedded digits as `mnist.npy`.

The handout's first cell loads its data with

    trainx, trainy, testx, testy = np.load('mnist.npy', allow_pickle=True)

that is, a `.npy` file holding a pickled object array of four arrays. This module writes
a file with exactly that layout from the embedded digits (`grader.datasets`), so the
notebook runs unchanged where MNIST cannot be downloaded. Trusted side: the grader
writes the file into a worker's folder; the file itself is plain data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.datasets import digits_as_mnist, split

__all__ = ["NUM_TEST", "mnist_split", "write_arrays", "write_mnist_npy", "write_student_data"]

# 1797 digits -> 1497 train / 300 test: the handout has no validation split.
NUM_TEST = 300


def mnist_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`(trainx, trainy, testx, testy)` of the embedded digits, shuffled with `seed`.

    trainx/testx are float64 (examples, 784) in [0, 1]; trainy/testy are int64 labels.
    The same seed always gives the same split.
    """
    X, y = digits_as_mnist()
    parts = split(X, y, seed, num_test=NUM_TEST, num_validation=0)
    return parts.X_train, parts.y_train, parts.X_test, parts.y_test


def write_mnist_npy(path: Path, seed: int = 0) -> None:
    """Write `mnist_split(seed)` to `path` in the handout's `mnist.npy` layout.

    `np.load(path, allow_pickle=True)` returns a 4-element object array that unpacks
    into `trainx, trainy, testx, testy`.
    """
    write_arrays(path, mnist_split(seed))


def write_arrays(path: Path, arrays: tuple[np.ndarray, ...]) -> None:
    """Write `arrays` in the handout's `mnist.npy` layout (a pickled object array)."""
    # Filled element by element: np.array(arrays, dtype=object) would try to broadcast
    # the arrays into one block instead of holding four references.
    packed = np.empty(len(arrays), dtype=object)
    for index, array in enumerate(arrays):
        packed[index] = array
    # Through a file object so np.save never appends a second ".npy" to the name.
    with Path(path).open("wb") as handle:
        np.save(handle, packed, allow_pickle=True)


def write_student_data(folder: Path) -> list[Path]:
    """What `grader data fcc_sigmoid` writes for a student: `mnist.npy` as the handout's first
    cell loads it. Real MNIST when the folder holds Keras' `mnist.npz` (x_train, y_train,
    x_test, y_test as 28x28 bytes), else the embedded digits split with seed 0."""
    path = Path(folder) / "mnist.npy"
    real = Path(folder) / "mnist.npz"
    if real.is_file():
        with np.load(real) as mnist:
            rows = [
                np.asarray(mnist[k], dtype=np.float64).reshape(len(mnist[k]), -1) / 255.0 for k in ("x_train", "x_test")
            ]
            write_arrays(path, (rows[0], mnist["y_train"].astype(np.int64), rows[1], mnist["y_test"].astype(np.int64)))
    else:
        write_mnist_npy(path)
    return [path]
