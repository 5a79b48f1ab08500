"""Data loading for two_layer_net: real MNIST files, the download path, the embedded digits.

MNIST itself is never fetched here: small files in MNIST's exact formats are written to
tmp_path, and the download code is pointed at a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import reference_package

from grader import datasets

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "reference" / "two_layer_net"

N_TRAIN, N_TEST = 12, 5


@pytest.fixture(scope="module")
def du() -> Iterator[ModuleType]:
    """The reference's cs231nHD.data_utils, imported fresh and removed afterwards."""
    with reference_package("data_utils") as modules:
        yield modules["data_utils"]


# --- writing MNIST-format files -----------------------------------------------------


def fake_images(n: int, first: int) -> np.ndarray:
    """n 28x28 uint8 images; image i is filled with the value first + 10*i, so a row
    of the loaded data says which image it came from."""
    values = (first + 10 * np.arange(n)) % 256
    return np.broadcast_to(values[:, None, None], (n, 28, 28)).astype(np.uint8)


def fake_labels(n: int, first: int) -> np.ndarray:
    return ((first + np.arange(n)) % 10).astype(np.uint8)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000 08 <ndim>, big-endian sizes, data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.tobytes()


def write_idx(folder: Path, gz: bool = True) -> dict[str, np.ndarray]:
    """The four MNIST files (N_TRAIN training, N_TEST test images) in folder."""
    arrays = {
        "train-images-idx3-ubyte.gz": fake_images(N_TRAIN, 0),
        "train-labels-idx1-ubyte.gz": fake_labels(N_TRAIN, 0),
        "t10k-images-idx3-ubyte.gz": fake_images(N_TEST, 5),
        "t10k-labels-idx1-ubyte.gz": fake_labels(N_TEST, 3),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (folder / name).write_bytes(gzip.compress(data))
        else:
            (folder / name.removesuffix(".gz")).write_bytes(data)
    return arrays


def assert_loaded(data: tuple[np.ndarray, ...], num_validation: int) -> None:
    X_train, y_train, X_val, y_val, X_test, y_test = data
    n = N_TRAIN - num_validation
    assert X_train.shape == (n, 784) and X_val.shape == (num_validation, 784) and X_test.shape == (N_TEST, 784)
    for X in (X_train, X_val, X_test):
        assert X.dtype == np.float64 and X.min() >= 0.0 and X.max() <= 1.0
    for y in (y_train, y_val, y_test):
        assert y.dtype == np.int64
    # Scaled by 1/255, row i of the training images is image i; validation is the LAST images.
    np.testing.assert_allclose(X_train[:, 0] * 255, 10 * np.arange(n))
    np.testing.assert_allclose(X_val[:, 0] * 255, 10 * np.arange(n, N_TRAIN))
    assert np.array_equal(y_train, np.arange(n) % 10)
    assert np.array_equal(y_val, np.arange(n, N_TRAIN) % 10)
    np.testing.assert_allclose(X_test[:, 0] * 255, 5 + 10 * np.arange(N_TEST))
    assert np.array_equal(y_test, (3 + np.arange(N_TEST)) % 10)


# --- load_mnist from files ----------------------------------------------------------


def test_loads_gzipped_idx_and_splits_off_the_last_images(du: ModuleType, tmp_path: Path) -> None:
    write_idx(tmp_path)
    assert_loaded(du.load_mnist(tmp_path, num_validation=4, download=False), 4)


def test_loads_unpacked_idx_files(du: ModuleType, tmp_path: Path) -> None:
    write_idx(tmp_path, gz=False)
    assert_loaded(du.load_mnist(tmp_path, num_validation=3, download=False), 3)


def test_loads_keras_npz_in_preference_to_idx(du: ModuleType, tmp_path: Path) -> None:
    np.savez(
        tmp_path / "mnist.npz",
        x_train=fake_images(N_TRAIN, 0), y_train=fake_labels(N_TRAIN, 0),
        x_test=fake_images(N_TEST, 5), y_test=fake_labels(N_TEST, 3),
    )  # fmt: skip
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not used")
    assert_loaded(du.load_mnist(tmp_path, num_validation=2, download=False), 2)


def test_bad_magic_number_names_the_file(du: ModuleType, tmp_path: Path) -> None:
    write_idx(tmp_path)
    # A labels file where the images file should be: a plausible mix-up.
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes((tmp_path / "train-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(du.MNISTFormatError, match="train-images-idx3-ubyte.gz.*magic number 0x00000801"):
        du.load_mnist(tmp_path, download=False)


def test_truncated_file_names_the_file(du: ModuleType, tmp_path: Path) -> None:
    arrays = write_idx(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(arrays["t10k-labels-idx1-ubyte.gz"])[:-2]))
    with pytest.raises(du.MNISTFormatError, match="t10k-labels-idx1-ubyte.gz.*truncated"):
        du.load_mnist(tmp_path, num_validation=2, download=False)


def test_npz_without_the_keras_keys_is_an_error(du: ModuleType, tmp_path: Path) -> None:
    np.savez(tmp_path / "mnist.npz", images=fake_images(3, 0))
    with pytest.raises(du.MNISTFormatError, match="mnist.npz.*x_train"):
        du.load_mnist(tmp_path, download=False)


def test_missing_files_without_download_say_which(du: ModuleType, tmp_path: Path) -> None:
    write_idx(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        du.load_mnist(tmp_path, download=False)


def test_validation_larger_than_the_training_set_is_an_error(du: ModuleType, tmp_path: Path) -> None:
    write_idx(tmp_path)
    with pytest.raises(ValueError, match="num_validation=12"):
        du.load_mnist(tmp_path, num_validation=N_TRAIN, download=False)


# --- downloading from a real local server -------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib's name)
        pass  # keep pytest's output clean


@pytest.fixture
def mnist_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """An HTTP server on 127.0.0.1 serving MNIST-format files: (base URL, their arrays)."""
    # urllib honours proxy variables; a request to the local server must not go out.
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    served = tmp_path / "served"
    arrays = write_idx(served)
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", arrays
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_downloads_missing_files_then_loads_them(
    du: ModuleType, tmp_path: Path, mnist_server: tuple[str, dict[str, np.ndarray]], capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, arrays = mnist_server
    target = tmp_path / "data"  # does not exist yet
    assert_loaded(du.load_mnist(target, num_validation=4, base_url=base_url), 4)
    assert sorted(p.name for p in target.iterdir()) == sorted(arrays)  # no leftover .part files
    assert capsys.readouterr().out.count("Downloading") == 4

    # A second load reads the downloaded files and fetches nothing.
    assert_loaded(du.load_mnist(target, num_validation=4, base_url=base_url), 4)
    assert "Downloading" not in capsys.readouterr().out


def test_download_only_fetches_what_is_missing(
    du: ModuleType, tmp_path: Path, mnist_server: tuple[str, dict[str, np.ndarray]], capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, _ = mnist_server
    target = tmp_path / "data"
    write_idx(target)
    (target / "t10k-labels-idx1-ubyte.gz").unlink()
    du.load_mnist(target, num_validation=4, base_url=base_url)
    out = capsys.readouterr().out
    assert out.count("Downloading") == 1 and "t10k-labels-idx1-ubyte.gz" in out


def test_failed_download_names_the_url_and_leaves_no_partial_file(
    du: ModuleType, tmp_path: Path, mnist_server: tuple[str, dict[str, np.ndarray]]
) -> None:
    base_url, _ = mnist_server
    target = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"could not download http://127\.0\.0\.1:\d+/nowhere/train-images"):
        du.load_mnist(target, base_url=base_url + "nowhere")  # no trailing slash: added
    assert list(target.iterdir()) == []


# --- get_mnist_data: what the notebook calls ----------------------------------------


def test_get_mnist_data_uses_mnist_when_present(
    du: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_idx(tmp_path)
    assert_loaded(du.get_mnist_data(tmp_path, num_validation=4), 4)
    assert "Using MNIST" in capsys.readouterr().out


def test_get_mnist_data_falls_back_to_the_embedded_digits(
    du: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = du.get_mnist_data(tmp_path / "nothing-here")
    assert "embedded handwritten digits" in capsys.readouterr().out
    assert not (tmp_path / "nothing-here").exists()  # never downloads on its own
    X_train, y_train, X_val, y_val, X_test, y_test = data
    assert X_train.shape == (1200, 784) and X_val.shape == (297, 784) and X_test.shape == (300, 784)
    # One implementation: exactly the grader's split.
    for mine, graders in zip(data, datasets.embedded_splits(seed=0)):
        assert np.array_equal(mine, graders)


def test_load_embedded_digits_follows_its_arguments(du: ModuleType) -> None:
    X_train, y_train, X_val, y_val, X_test, y_test = du.load_embedded_digits(num_validation=100, num_test=200, seed=3)
    assert (len(y_train), len(y_val), len(y_test)) == (1497, 100, 200)
    assert np.array_equal(X_test, datasets.embedded_splits(seed=3, num_test=200, num_validation=100).X_test)


# --- grader.datasets ----------------------------------------------------------------


def test_digits_as_mnist_has_mnists_shape_and_range() -> None:
    X, y = datasets.digits_as_mnist()
    assert X.shape == (1797, 784) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    assert X.min() == 0.0 and X.max() == 1.0
    images = X.reshape(-1, 28, 28)
    # The digit sits in the central 20x20 box, like MNIST's; the 4-pixel border is empty.
    assert not images[:, :4].any() and not images[:, -4:].any()
    assert not images[:, :, :4].any() and not images[:, :, -4:].any()
    assert images[:, 4:24, 4:24].any(axis=(1, 2)).all()


def test_digits_as_mnist_is_deterministic_and_returns_fresh_arrays() -> None:
    X1, y1 = datasets.digits_as_mnist()
    X1[:] = -1.0  # must not leak into the next caller
    X2, y2 = datasets.digits_as_mnist()
    X3, y3 = datasets.digits_as_mnist()
    assert X2.min() == 0.0 and np.array_equal(X2, X3) and np.array_equal(y1, y2)


def test_digits_are_scikit_learns_digits() -> None:
    """The fast CSV path reads exactly what sklearn's public load_digits returns, and the
    upscaling is scipy's linear zoom of it."""
    from scipy import ndimage
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = datasets.digits_as_mnist()
    assert np.array_equal(y, digits.target)
    first = ndimage.zoom(digits.images[0], 2.5, order=1) / 16.0
    np.testing.assert_allclose(X[0].reshape(28, 28)[4:24, 4:24], np.clip(first, 0, 1), atol=1e-12)


def test_split_is_seeded_disjoint_and_complete() -> None:
    X, y = datasets.digits_as_mnist()
    a = datasets.split(X, y, seed=7, num_test=300, num_validation=297)
    b = datasets.split(X, y, seed=7, num_test=300, num_validation=297)
    c = datasets.split(X, y, seed=8, num_test=300, num_validation=297)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a.y_test, c.y_test)
    assert (len(a.y_train), len(a.y_val), len(a.y_test)) == (1200, 297, 300)
    # Every image lands in exactly one part: the rows, sorted, are the dataset's rows.
    rows = np.concatenate([a.X_train, a.X_val, a.X_test])
    assert np.array_equal(np.unique(rows, axis=0), np.unique(X, axis=0))
    assert np.bincount(np.concatenate([a.y_train, a.y_val, a.y_test])).tolist() == np.bincount(y).tolist()


def test_default_training_set_is_a_multiple_of_the_batch_size() -> None:
    """So cs231n-style `it % (num_train / batch_size)` epochs fire (see grader.datasets)."""
    splits = datasets.embedded_splits(seed=0)
    assert len(splits.y_train) % 200 == 0


def test_split_refuses_sizes_that_leave_no_training_data() -> None:
    X, y = np.zeros((10, 2)), np.zeros(10, dtype=np.int64)
    with pytest.raises(ValueError, match="leave any for training"):
        datasets.split(X, y, seed=0, num_test=5, num_validation=5)
