"""The `fcc_sigmoid` reference notebook (handout "DL Tutorial 1") is right.

Trusted tests of the reference only. Most of them run the notebook's code cells
in-process (IPython magics stripped) in a folder holding the `mnist.npy` that
`reference/fcc_sigmoid/data.py` writes, then test the names it defined; the training
tests drive the reference's class with the grader's own training probes
(hidden_probes.py), which is how the accuracy thresholds in checks.py were calibrated;
the last one executes the whole notebook with a real kernel through nbclient. Students'
notebooks are never run this way: they go through the harness's sandboxed worker.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import nbformat
import numpy as np
import pytest
from conftest import REFERENCE as REFERENCE_ROOT
from conftest import import_file
from nbclient import NotebookClient
from threadpoolctl import threadpool_limits

from grader.course.assignments import load_assignment
from grader.worker.runner import ProbeContext

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "fcc_sigmoid"
NOTEBOOK = REFERENCE / "fcc_sigmoid.ipynb"
PARAMETER_NAMES = ("W_i_h1", "b_h1", "W_h1_h2", "b_h2", "W_h2_o", "b_out")

# Published in the handout: "Number of parameters: 478410" for fcc(784, 400, 400, 10).
HANDOUT_PARAMETER_COUNT = 478410
# The figure the notebook's own SGD cell must reach on the seed-0 split: the grader's SGD
# check needs 0.7 held-out accuracy, and the reference reached 0.87 at worst over 50 seeds.
NOTEBOOK_ACCURACY = 0.8

Namespace = dict[str, Any]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread() -> Iterator[None]:
    # These matrices are small: on a busy two-core machine, OpenBLAS's threads fight
    # over the cores and made these tests 15x slower. The grader's workers pin one
    # thread too.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def data() -> ModuleType:
    return import_file(REFERENCE / "data.py", "fcc_sigmoid_data")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, data: ModuleType) -> Path:
    folder = tmp_path_factory.mktemp("fcc_sigmoid")
    data.write_mnist_npy(folder / "mnist.npy", seed=0)
    return folder


@contextlib.contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    # contextlib.chdir needs Python 3.11; the project supports 3.10.
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _without_magics(source: str) -> str:
    # `%matplotlib inline` and friends are IPython, not Python; blanking them keeps
    # line numbers in tracebacks equal to the notebook's.
    return "\n".join("" if line.lstrip().startswith("%") else line for line in source.split("\n"))


@pytest.fixture(scope="module")
def nb(data_dir: Path) -> Namespace:
    """The reference notebook's namespace after running all its code cells in order."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    namespace: Namespace = {"__name__": "fcc_sigmoid_notebook"}
    with _working_directory(data_dir), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("error")  # the reference notebook runs without a single warning
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                code = compile(_without_magics(cell.source), f"<fcc_sigmoid.ipynb cell {index}>", "exec")
                exec(code, namespace)
    return namespace


def _one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    one_hot: np.ndarray = np.eye(n_classes)[y]
    return one_hot


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise |a - b| / max(1e-8, |a| + |b|): the handouts' formula."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _numerical_gradient(loss: Any, param: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Five-point central difference of `loss()` with respect to `param`, in place.

    Fourth order: its error (~1e-10 here) stays far below the 1e-7 tolerance even for
    the first layer's small gradients, where a two-point difference gets close to it.
    """
    grad = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        saved = param[index]
        values = []
        for step in (2 * h, h, -h, -2 * h):
            param[index] = saved + step
            values.append(loss())
        param[index] = saved
        grad[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def _quiet_model(nb: Namespace, *sizes: int) -> Any:
    """`fcc(*sizes)` without its parameter-count line on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        return nb["fcc"](*sizes)


# --------------------------------------------------------------------------- data file


def test_mnist_npy_unpacks_like_the_handout(data_dir: Path) -> None:
    trainx, trainy, testx, testy = np.load(data_dir / "mnist.npy", allow_pickle=True)
    assert trainx.shape == (1497, 784) and testx.shape == (300, 784)
    assert trainy.shape == (1497,) and testy.shape == (300,)
    assert trainx.dtype == np.float64 and trainy.dtype.kind == "i"
    assert 0.0 <= min(trainx.min(), testx.min()) and max(trainx.max(), testx.max()) <= 1.0
    assert set(np.unique(trainy)) == set(range(10)) == set(np.unique(testy))


def test_mnist_npy_split_depends_only_on_the_seed(data: ModuleType, tmp_path: Path) -> None:
    for name, seed in (("a.npy", 3), ("b.npy", 3), ("c.npy", 4)):
        data.write_mnist_npy(tmp_path / name, seed=seed)
    a, b, c = (np.load(tmp_path / name, allow_pickle=True) for name in ("a.npy", "b.npy", "c.npy"))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[3], c[3])


# --------------------------------------------------------------------------- given code


def test_softmax_is_stable_on_logits_of_magnitude_1000(nb: Namespace) -> None:
    logits = 1000.0 * np.random.default_rng(0).standard_normal((8, 10))
    with np.errstate(over="raise", invalid="raise"):  # instead of warning
        probs = nb["softmax"](logits)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(probs.argmax(axis=1), logits.argmax(axis=1))


def test_softmax_equals_the_textbook_formula_on_small_logits(nb: Namespace) -> None:
    logits = np.random.default_rng(1).standard_normal((5, 4))
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(nb["softmax"](logits), expected, rtol=1e-14)


def test_sigmoid_is_exact_and_quiet_on_large_inputs(nb: Namespace) -> None:
    x = np.array([-1000.0, -5.0, 0.0, 2.0, 1000.0])
    with np.errstate(all="raise"):
        values = nb["sigmoid"](x)
    np.testing.assert_allclose(values[1:4], 1.0 / (1.0 + np.exp(-x[1:4])), rtol=1e-15)
    assert values[0] < 1e-200 and values[-1] == 1.0


def test_one_layer_maps_examples_by_features_to_examples_by_units(nb: Namespace) -> None:
    rng = np.random.default_rng(2)
    # the handout's layout: W is (inputs, outputs)
    X, W, b = rng.standard_normal((6, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    np.testing.assert_allclose(
        nb["fcc_one_layer"](X, W, b, nb["sigmoid"]), 1.0 / (1.0 + np.exp(-(X @ W + b))), rtol=1e-14
    )


def test_cross_entropy_is_the_mean_negative_log_true_class_probability(nb: Namespace) -> None:
    pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]])
    y = np.array([0, 2, 0])
    assert nb["cross_entropy"](pred, y) == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.25])), rel=1e-15)
    assert nb["accuracy"](pred, y) == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- deltas


def test_both_deltas_agree_with_shape_classes_by_examples(nb: Namespace) -> None:
    rng = np.random.default_rng(3)
    h = nb["softmax"](3.0 * rng.standard_normal((7, 10)))
    y = rng.integers(0, 10, size=7)
    element_wise = nb["delta_last_layer"](h, y)
    easy = nb["delta_last_layer_easy_approach"](h, y)
    assert element_wise.shape == easy.shape == (10, 7)
    np.testing.assert_allclose(element_wise, easy, rtol=0, atol=1e-12)


def test_easy_delta_is_softmax_minus_one_hot_transposed(nb: Namespace) -> None:
    rng = np.random.default_rng(4)
    h = nb["softmax"](rng.standard_normal((5, 3)))
    y = np.array([0, 1, 2, 2, 1])
    np.testing.assert_array_equal(nb["delta_last_layer_easy_approach"](h, y), (h - _one_hot(y, 3)).T)


def test_del_sigmoid_is_h_times_one_minus_h(nb: Namespace) -> None:
    x = np.linspace(-6.0, 6.0, 25)
    h = nb["sigmoid"](x)
    np.testing.assert_allclose(nb["del_sigmoid"](h), h * (1.0 - h), rtol=1e-15)
    # ... which is the sigmoid's derivative.
    eps = 1e-5
    numeric = (nb["sigmoid"](x + eps) - nb["sigmoid"](x - eps)) / (2 * eps)
    np.testing.assert_allclose(nb["del_sigmoid"](h), numeric, rtol=1e-8)


# --------------------------------------------------------------------------- the network


def test_constructor_prints_the_handouts_parameter_count(nb: Namespace, capsys: pytest.CaptureFixture[str]) -> None:
    model = nb["fcc"](784, 400, 400, 10)
    assert f"Number of parameters: {HANDOUT_PARAMETER_COUNT}" in capsys.readouterr().out
    assert sum(getattr(model, name).size for name in PARAMETER_NAMES) == HANDOUT_PARAMETER_COUNT


def test_weights_are_inputs_by_outputs_as_the_handout_prints_them(nb: Namespace) -> None:
    model = _quiet_model(nb, 5, 4, 3, 2)
    shapes = {name: getattr(model, name).shape for name in PARAMETER_NAMES}
    assert shapes == {"W_i_h1": (5, 4), "b_h1": (4,), "W_h1_h2": (4, 3), "b_h2": (3,), "W_h2_o": (3, 2), "b_out": (2,)}


def test_forward_propagation_stores_activations_examples_first(nb: Namespace) -> None:
    model = _quiet_model(nb, 5, 4, 3, 2)
    X = np.random.default_rng(5).standard_normal((6, 5))
    out = model.forward_propagation(X)
    assert out is model.out and model.X is X
    assert (model.h1.shape, model.h2.shape, out.shape) == ((6, 4), (6, 3), (6, 2))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    h1 = 1.0 / (1.0 + np.exp(-(X @ model.W_i_h1 + model.b_h1)))
    np.testing.assert_allclose(model.h1, h1, rtol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backprop_matches_the_numerical_gradient_of_the_mean_loss(nb: Namespace, seed: int) -> None:
    np.random.seed(seed)
    model = _quiet_model(nb, 5, 4, 3, 3)
    rng = np.random.default_rng(seed)
    # Random biases too, so their gradients are tested away from the zero start.
    for name in ("b_h1", "b_h2", "b_out"):
        setattr(model, name, 0.5 * rng.standard_normal(getattr(model, name).shape))
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, size=6)

    model.forward_propagation(X)
    model.backprop(y)
    analytic = {name: getattr(model, "d" + name).copy() for name in PARAMETER_NAMES}

    def loss() -> float:
        return float(nb["cross_entropy"](model.forward_propagation(X), y))

    for name in PARAMETER_NAMES:
        assert analytic[name].shape == getattr(model, name).shape, name
        error = _rel_error(analytic[name], _numerical_gradient(loss, getattr(model, name)))
        assert error < 1e-7, f"d{name}: max relative error {error:.1e}"


def test_gradient_step_moves_every_parameter_by_minus_lr_times_its_gradient(nb: Namespace) -> None:
    model = _quiet_model(nb, 5, 4, 3, 3)
    rng = np.random.default_rng(6)
    before = {name: getattr(model, name).copy() for name in PARAMETER_NAMES}
    grads = {name: rng.standard_normal(before[name].shape) for name in PARAMETER_NAMES}
    for name, grad in grads.items():
        setattr(model, "d" + name, grad)
    model.gradient_step(0.3)
    for name in PARAMETER_NAMES:
        np.testing.assert_array_equal(getattr(model, name), before[name] - 0.3 * grads[name], err_msg=name)


# --------------------------------------------------------------------------- training, as graded


@pytest.fixture(scope="module")
def hidden_probes() -> ModuleType:
    return import_file(REFERENCE / "hidden_probes.py", "fcc_sigmoid_hidden_probes")


def _graded_training(nb: Namespace, probes: ModuleType, probe: str, seed: int, folder: Path, fcc: Any = None) -> float:
    """Held-out accuracy of the grader's training probe `probe` on the reference's class
    (or `fcc`), judged as checks.py judges it: labels from `prepare_data`."""
    assignment = load_assignment("fcc_sigmoid", REFERENCE_ROOT)
    assert assignment.prepare_data is not None
    labels = assignment.prepare_data(folder, seed)["holdout_labels"]
    namespace = SimpleNamespace(**{**nb, "fcc": fcc or nb["fcc"]})
    predictions = getattr(probes, probe)(namespace, ProbeContext(seed=seed, data_dir=folder))["predictions"]
    assert predictions.dtype == np.int64 and predictions.shape == labels.shape
    return float(np.mean(predictions == labels))


@pytest.mark.parametrize("probe", ["gd_training", "sgd_training"])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_graders_training_loops_train_the_reference_well_past_the_threshold(
    nb: Namespace, hidden_probes: ModuleType, tmp_path: Path, probe: str, seed: int
) -> None:
    (check,) = [c for c in load_assignment("fcc_sigmoid", REFERENCE_ROOT).checks if c.name == probe]
    threshold = check.expect.threshold  # type: ignore[attr-defined]
    # 0.1 of margin: the reference reached 0.87 at worst over 50 seeds against 0.7
    assert _graded_training(nb, hidden_probes, probe, seed, tmp_path) >= threshold + 0.1


@pytest.mark.parametrize("probe", ["gd_training", "sgd_training"])
def test_a_class_whose_step_changes_nothing_stays_near_chance(
    nb: Namespace, hidden_probes: ModuleType, tmp_path: Path, probe: str
) -> None:
    # The other side of the accuracy checks' calibration: they must fail a broken step.
    class Frozen(nb["fcc"]):  # type: ignore[misc,name-defined,valid-type]
        def gradient_step(self, learning_rate: float) -> None:
            pass

    assert _graded_training(nb, hidden_probes, probe, 0, tmp_path, Frozen) < 0.3


# --------------------------------------------------------------------------- real kernel


def test_whole_notebook_runs_with_a_real_kernel(data_dir: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Raises CellExecutionError, naming the cell, if any cell raises.
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(data_dir)}}
    )
    # One BLAS thread in the kernel as well (see `one_blas_thread`).
    client.execute(env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)
    assert not [o for cell in code_cells for o in cell.outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for cell in code_cells for o in cell.outputs if o.output_type == "stream")
    assert f"Number of parameters: {HANDOUT_PARAMETER_COUNT}" in printed
    # the SGD cell, the last one, ends with the test accuracy of the net it trained
    found = re.findall(r"Test Accuracy:\s+([0-9.]+)", code_cells[-1].outputs[-1].get("text", ""))
    assert found and float(found[-1]) >= NOTEBOOK_ACCURACY
