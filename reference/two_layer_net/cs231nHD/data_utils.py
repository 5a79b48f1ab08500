"""Loading the data of Exercise 9: real MNIST if you have it, else embedded digits.

- `load_mnist(folder)` reads MNIST from `folder`: Keras' `mnist.npz` if present, else
  the four IDX files (gzipped as distributed, or already unpacked). If they are
  missing it downloads the IDX files (unless `download=False`).
- `load_embedded_digits()` gives the same six arrays from scikit-learn's handwritten
  digits, brought to MNIST's 28x28 shape by the grader (`grader.datasets`): it needs
  no network, so the notebook runs anywhere.
- `get_mnist_data(folder)` is what the notebook calls: MNIST if it is in `folder`,
  otherwise the embedded digits. It only downloads when asked to.

Every loader returns `X_train, y_train, X_val, y_val, X_test, y_test`: rows of 784
float64 pixels in [0, 1] and int64 labels 0..9.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

# Where the IDX files are fetched from. The original host (yann.lecun.com) no longer
# serves them to scripts; this is the mirror torchvision uses. Any folder holding the
# four .gz files works, e.g. a course web server: pass base_url=... to load_mnist.
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
NPZ_FILE = "mnist.npz"

# IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte), then the
# number of dimensions (3 for images N x rows x cols, 1 for labels).
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class MNISTFormatError(ValueError):
    """An MNIST file exists but does not hold what MNIST files hold."""


def _open_idx(path: Path) -> gzip.GzipFile | BinaryIO:
    # Gzip is recognised by its magic bytes rather than by the name, so a file that was
    # unpacked but kept its .gz name (some browsers do that) still loads.
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    return gzip.GzipFile(path, "rb") if is_gzip else open(path, "rb")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes, checking its header against its size."""
    try:
        with _open_idx(path) as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:  # gzip: corrupt or truncated data
        raise MNISTFormatError(f"{path}: cannot read it as (gzipped) IDX: {e}") from e

    ndim = magic & 0xFF
    header_size = 4 * (1 + ndim)
    if len(raw) < header_size:
        raise MNISTFormatError(
            f"{path}: only {len(raw)} bytes, too short for an IDX header; "
            "the file is truncated or not an MNIST file"
        )
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise MNISTFormatError(
            f"{path}: bad IDX magic number 0x{found:08x}, expected 0x{magic:08x} "
            f"({'images' if magic == IMAGES_MAGIC else 'labels'} file); "
            "is this the right file, and is it an MNIST file at all?"
        )
    shape = tuple(
        int.from_bytes(raw[4 * (i + 1) : 4 * (i + 2)], "big") for i in range(ndim)
    )
    expected = int(np.prod(shape))
    if len(raw) - header_size != expected:
        raise MNISTFormatError(
            f"{path}: header says {shape} = {expected} bytes of data but the file has "
            f"{len(raw) - header_size}; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _find_idx(folder: Path, name: str) -> Path | None:
    """The file `name` in folder, or its unpacked twin (name without .gz)."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def _has_idx(folder: Path) -> bool:
    return all(_find_idx(folder, name) is not None for name in IDX_FILES)


def has_mnist(folder: str | os.PathLike[str]) -> bool:
    """True if `folder` holds MNIST: mnist.npz or all four IDX files."""
    folder = Path(folder)
    return (folder / NPZ_FILE).is_file() or _has_idx(folder)


def download_mnist(
    folder: str | os.PathLike[str], base_url: str = MNIST_URL, timeout: float = 60.0
) -> None:
    """Download the IDX files that are missing from `folder` from `base_url`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = base_url if base_url.endswith("/") else base_url + "/"
    for name in IDX_FILES:
        if _find_idx(folder, name) is not None:
            continue
        url = base + name
        print(f"Downloading {url} ...")
        # Write to a temporary file and rename it into place, so an interrupted download
        # never leaves a truncated file that would later pass for MNIST.
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                shutil.copyfileobj(r, out)
            os.replace(tmp_name, folder / name)
        except (urllib.error.URLError, OSError) as e:
            Path(tmp_name).unlink(missing_ok=True)
            raise RuntimeError(
                f"could not download {url} into {folder}: {e}. Copy the four MNIST files "
                f"({', '.join(IDX_FILES)}) or {NPZ_FILE} into {folder} by hand, or pass "
                "another base_url."
            ) from e


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        # allow_pickle=False: a data file must never be able to run code.
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise MNISTFormatError(f"{path}: not a readable .npz file: {e}") from e
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # a single .npy array under this name
        raise MNISTFormatError(f"{path}: holds one array, expected an .npz with {', '.join(keys)}")
    with loaded:
        missing = [k for k in keys if k not in loaded.files]
        if missing:
            raise MNISTFormatError(
                f"{path}: missing {', '.join(missing)}; expected arrays {', '.join(keys)} "
                "(the layout of Keras' mnist.npz)"
            )
        try:
            x_train, y_train, x_test, y_test = (loaded[k] for k in keys)
        except (OSError, ValueError) as e:  # e.g. object arrays, which need pickle
            raise MNISTFormatError(f"{path}: cannot read its arrays: {e}") from e
    return x_train, y_train, x_test, y_test


def _check_pair(images: np.ndarray, labels: np.ndarray, what: str, where: Path) -> None:
    # Pixels are scaled by 1/255 below, which is only right for MNIST's 0..255 bytes.
    if not np.issubdtype(images.dtype, np.integer):
        raise MNISTFormatError(
            f"{where}: {what} images are {images.dtype}, expected uint8 pixel values "
            "0..255 (the layout of Keras' mnist.npz)"
        )
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MNISTFormatError(
            f"{where}: {what} images have shape {images.shape}, expected (N, 28, 28)"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise MNISTFormatError(
            f"{where}: {images.shape[0]} {what} images but labels of shape {labels.shape}"
        )


def _read_pair(
    folder: Path, images_name: str, labels_name: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check one images file and its labels file from folder."""
    images_path = _find_idx(folder, images_name)
    labels_path = _find_idx(folder, labels_name)
    if images_path is None or labels_path is None:
        missing = images_name if images_path is None else labels_name
        raise FileNotFoundError(f"MNIST file {missing} not found in {folder}")
    images = _read_idx(images_path, IMAGES_MAGIC)
    labels = _read_idx(labels_path, LABELS_MAGIC)
    _check_pair(images, labels, what, images_path)
    return images, labels


def _as_rows(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 784) float64 in [0, 1]."""
    return images.reshape(images.shape[0], -1).astype(np.float64) / 255.0


def load_mnist(
    folder: str | os.PathLike[str],
    num_validation: int = 10000,
    download: bool = True,
    base_url: str = MNIST_URL,
) -> Data:
    """Load MNIST from `folder` and split the last `num_validation` training images off.

    Reads `mnist.npz` (keys x_train, y_train, x_test, y_test) if it is in folder, else
    the four IDX files; downloads the IDX files from `base_url` first if they are
    missing and `download` is true.

    Returns X_train, y_train, X_val, y_val, X_test, y_test: images as rows of 784
    float64 values in [0, 1], labels as int64. With the defaults: 50000 training,
    10000 validation and 10000 test images.
    """
    folder = Path(folder)
    npz = folder / NPZ_FILE
    if npz.is_file():
        x_train, y_train, x_test, y_test = _load_npz(npz)
        _check_pair(x_train, y_train, "training", npz)
        _check_pair(x_test, y_test, "test", npz)
    else:
        if not _has_idx(folder):
            if not download:
                missing = [n for n in IDX_FILES if _find_idx(folder, n) is None]
                raise FileNotFoundError(
                    f"MNIST not found in {folder}: missing {', '.join(missing)} "
                    f"(and no {NPZ_FILE}); call with download=True or copy the files there"
                )
            download_mnist(folder, base_url=base_url)
        x_train, y_train = _read_pair(folder, TRAIN_IMAGES, TRAIN_LABELS, "training")
        x_test, y_test = _read_pair(folder, TEST_IMAGES, TEST_LABELS, "test")

    num_train = x_train.shape[0] - num_validation
    if num_validation < 0 or num_train <= 0:
        raise ValueError(
            f"num_validation={num_validation} must be >= 0 and leave training images "
            f"(there are {x_train.shape[0]})"
        )
    # The validation set is the last num_validation training images, as in the handout.
    X_train, X_val = _as_rows(x_train[:num_train]), _as_rows(x_train[num_train:])
    y_train = y_train.astype(np.int64)
    return (
        X_train,
        y_train[:num_train],
        X_val,
        y_train[num_train:],
        _as_rows(x_test),
        y_test.astype(np.int64),
    )


def load_embedded_digits(
    num_validation: int = 297, num_test: int = 300, seed: int = 0
) -> Data:
    """The six arrays from scikit-learn's 1797 handwritten digits, in MNIST's shape.

    The digits are shuffled with `seed` and split into num_test test images,
    num_validation validation images and the rest for training: 1200 by default, a
    multiple of the handout's batch size of 200 (see grader.datasets).
    """
    # The grader package (which students install to check their work) owns the one
    # implementation, so the notebook trains on exactly what the grader grades with.
    try:
        from grader.datasets import embedded_splits
    except ImportError as e:
        raise ImportError(
            "the embedded digits come with the grader package: install it "
            "(pip install nn-grader), or put MNIST files in a folder and use load_mnist"
        ) from e
    # Splits is a NamedTuple of the six arrays, so it unpacks like the other loaders.
    return embedded_splits(seed=seed, num_test=num_test, num_validation=num_validation)


def get_mnist_data(
    folder: str | os.PathLike[str] = "data",
    num_validation: int | None = None,
    download: bool = False,
    base_url: str = MNIST_URL,
    seed: int = 0,
) -> Data:
    """MNIST from `folder` if it is there, else the embedded digits; says which.

    num_validation defaults to 10000 for MNIST and 297 for the embedded digits. With
    download=True a missing MNIST is downloaded into folder instead of falling back.
    """
    if download or has_mnist(folder):
        data = load_mnist(
            folder,
            num_validation=10000 if num_validation is None else num_validation,
            download=download,
            base_url=base_url,
        )
        print(f"Using MNIST from {Path(folder).resolve()}")
    else:
        data = (
            load_embedded_digits(seed=seed)
            if num_validation is None
            else load_embedded_digits(num_validation=num_validation, seed=seed)
        )
        print(
            f"No MNIST in {Path(folder).resolve()}: using the embedded handwritten digits "
            "(scikit-learn's 8x8 digits upscaled to 28x28)"
        )
    for name, array in zip(("Train", "Validation", "Test"), data[::2]):
        print(f"{name} data shape: {array.shape}")
    return data
