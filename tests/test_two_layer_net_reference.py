"""The two_layer_net reference reproduces the numbers published in the handout (Exercise 9).

These are trusted tests: they import the reference directly (no sandbox) and assert the
handout's printed values, so a change to the reference that would move what students
are graded against fails here first.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from conftest import reference_package
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "reference" / "two_layer_net"
NEURAL_NET = ASSIGNMENT / "cs231nHD" / "neural_net.py"

# Published in the handout.
CORRECT_SCORES = np.asarray(
    [
        [-0.81233741, -1.27654624, -0.70335995],
        [-0.17129677, -1.18803311, -0.47310444],
        [-0.51590475, -1.01354314, -0.8504215],
        [-0.15419291, -0.48629638, -0.52901952],
        [-0.00618733, -0.12435261, -0.15226949],
    ]
)
CORRECT_LOSS = 1.30378789133

# The calibrated training call on the embedded digits (see the notebook) and the
# accuracy a correct implementation clears with margin, with or without momentum.
DIGITS_CALL = dict(num_iters=300, batch_size=200, learning_rate=0.5, learning_rate_decay=0.95, reg=1e-3)
DIGITS_THRESHOLD = 0.85


@pytest.fixture(scope="module")
def ref() -> Iterator[SimpleNamespace]:
    """The reference's cs231nHD modules, imported fresh from reference/two_layer_net."""
    with reference_package("neural_net", "gradient_check", "vis_utils") as modules:
        yield SimpleNamespace(
            nn=modules["neural_net"], gradient_check=modules["gradient_check"], vis_utils=modules["vis_utils"]
        )


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """The handout's relative error."""
    return float(np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y)))))


def toy_model(nn: ModuleType) -> Any:  # the reference's TwoLayerNet, imported at run time
    np.random.seed(0)
    return nn.TwoLayerNet(4, 10, 3, std=1e-1)


def toy_data() -> tuple[np.ndarray, np.ndarray]:
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return X, y


# --- the handout's published values ------------------------------------------------


def test_toy_scores_match_the_handout(ref: SimpleNamespace) -> None:
    net = toy_model(ref.nn)
    X, _ = toy_data()
    scores = net.loss(X)
    assert scores.shape == (5, 3)
    assert np.sum(np.abs(scores - CORRECT_SCORES)) < 1e-7


def test_toy_loss_matches_the_handout(ref: SimpleNamespace) -> None:
    net = toy_model(ref.nn)
    X, y = toy_data()
    loss, _ = net.loss(X, y, reg=0.1)
    assert abs(loss - CORRECT_LOSS) < 1e-10


@pytest.mark.parametrize("param", ["W1", "b1", "W2", "b2"])
def test_gradients_agree_with_the_numerical_gradient(ref: SimpleNamespace, param: str) -> None:
    net = toy_model(ref.nn)
    X, y = toy_data()
    _, grads = net.loss(X, y, reg=0.1)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    assert grads[param].shape == net.params[param].shape
    numeric = ref.gradient_check.eval_numerical_gradient(
        lambda _: net.loss(X, y, reg=0.1)[0], net.params[param], verbose=False
    )
    assert rel_error(numeric, grads[param]) < 1e-8


def test_toy_training_reaches_the_handouts_loss(ref: SimpleNamespace) -> None:
    net = toy_model(ref.nn)
    X, y = toy_data()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=1e-5, num_iters=100, verbose=False)
    assert set(stats) == {"loss_history", "train_acc_history", "val_acc_history"}
    assert len(stats["loss_history"]) == 100
    assert stats["loss_history"][-1] < 0.02


# --- the interface the checks rely on -----------------------------------------------


def test_init_draws_w1_then_w2_with_std(ref: SimpleNamespace) -> None:
    np.random.seed(3)
    net = ref.nn.TwoLayerNet(6, 4, 2, std=0.5)
    np.random.seed(3)
    W1 = 0.5 * np.random.randn(6, 4)
    W2 = 0.5 * np.random.randn(4, 2)
    assert np.array_equal(net.params["W1"], W1) and np.array_equal(net.params["W2"], W2)
    assert np.array_equal(net.params["b1"], np.zeros(4)) and np.array_equal(net.params["b2"], np.zeros(2))


def test_loss_is_stable_on_large_scores(ref: SimpleNamespace) -> None:
    net = ref.nn.TwoLayerNet(2, 3, 2)
    net.params["W1"] = np.eye(2, 3) * 1000.0
    net.params["W2"] = np.eye(3, 2)
    loss, grads = net.loss(np.array([[1.0, 0.0]]), np.array([1]))
    # Scores (1000, 0): cross-entropy of the wrong class is 1000, not inf/nan.
    assert loss == pytest.approx(1000.0)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_predict_returns_argmax_class_indices(ref: SimpleNamespace) -> None:
    net = toy_model(ref.nn)
    X, _ = toy_data()
    predicted = net.predict(X)
    assert predicted.shape == (5,)
    assert np.issubdtype(predicted.dtype, np.integer)
    assert np.array_equal(predicted, np.argmax(CORRECT_SCORES, axis=1))


def test_momentum_zero_is_plain_sgd(ref: SimpleNamespace) -> None:
    """train(momentum=0.0) takes exactly the steps p -= lr * dp on the same minibatches."""
    X, y = toy_data()
    net = toy_model(ref.nn)
    np.random.seed(5)
    net.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=1.0, reg=1e-3, num_iters=7, batch_size=3)

    manual = toy_model(ref.nn)
    np.random.seed(5)
    for _ in range(7):
        idx = np.random.choice(5, 3, replace=True)
        _, grads = manual.loss(X[idx], y[idx], reg=1e-3)
        for name in manual.params:
            manual.params[name] -= 0.1 * grads[name]
    for name in net.params:
        np.testing.assert_allclose(net.params[name], manual.params[name], rtol=0, atol=1e-15)


def test_momentum_changes_the_steps(ref: SimpleNamespace) -> None:
    X, y = toy_data()
    runs = []
    for momentum in (0.0, 0.9):
        net = toy_model(ref.nn)
        np.random.seed(5)
        runs.append(net.train(X, y, X, y, learning_rate=0.05, num_iters=20, momentum=momentum))
    assert runs[0]["loss_history"][0] == runs[1]["loss_history"][0]  # same first step
    assert runs[0]["loss_history"][-1] != runs[1]["loss_history"][-1]


def test_accuracy_is_recorded_once_per_epoch(ref: SimpleNamespace) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(1200, 8)), rng.integers(0, 3, size=1200)
    net = ref.nn.TwoLayerNet(8, 5, 3)
    stats = net.train(X, y, X[:50], y[:50], num_iters=25, batch_size=200)
    # 1200 / 200 = 6 iterations per epoch: iterations 0, 6, 12, 18, 24.
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == 5


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_handout_training_call_on_the_embedded_digits(ref: SimpleNamespace, momentum: float) -> None:
    """The calibrated call clears the grading threshold (min over 20 seeds is ~0.91)."""
    from grader.datasets import embedded_splits

    X_train, y_train, X_val, y_val, X_test, y_test = embedded_splits(seed=0)
    np.random.seed(0)
    net = ref.nn.TwoLayerNet(784, 50, 10)
    # One BLAS thread, as in the grader's workers: on a busy machine a multi-threaded
    # BLAS spends more time waiting for its threads than multiplying these small matrices.
    with threadpool_limits(limits=1):
        stats = net.train(X_train, y_train, X_val, y_val, momentum=momentum, **DIGITS_CALL)
    assert stats["loss_history"][-1] < stats["loss_history"][0]
    assert (net.predict(X_test) == y_test).mean() >= DIGITS_THRESHOLD


# --- support code -------------------------------------------------------------------


def test_numerical_gradient_of_a_quadratic_restores_x(ref: SimpleNamespace) -> None:
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    grad = ref.gradient_check.eval_numerical_gradient(lambda v: float(np.sum(v**2)), x, verbose=False)
    np.testing.assert_allclose(grad, 2 * before, atol=1e-6)
    assert np.array_equal(x, before)


def test_visualize_grid_lays_out_mnist_weights(ref: SimpleNamespace) -> None:
    W1 = np.random.default_rng(0).normal(size=(784, 50))
    images = W1.reshape(28, 28, 1, -1).transpose(3, 0, 1, 2)
    images[7] = 0.0  # a dead unit: constant weights
    grid = ref.vis_utils.visualize_grid(images, padding=3)
    assert grid.shape == (8 * 28 + 7 * 3, 8 * 28 + 7 * 3, 1)  # ceil(sqrt(50)) = 8 per side
    assert np.all(np.isfinite(grid)) and grid.min() == 0.0 and grid.max() == pytest.approx(255.0)


# --- the solution markers the template generator relies on --------------------------

BEGIN = re.compile(r"^# BEGIN SOLUTION: (?P<description>.*\S)\s*$")
END = re.compile(r"^# END SOLUTION\s*$")


def _solution_blocks(source: str) -> list[tuple[int, int, str, str]]:
    """(begin line, end line, indent, description) of each block, 0-based lines.

    Markers are comment tokens (a docstring quoting them is not a block), as for the
    template generator. Asserts the blocks pair up and do not nest.
    """
    lines = source.splitlines()
    blocks: list[tuple[int, int, str, str]] = []
    opened: tuple[int, str, str] | None = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT or "SOLUTION" not in token.string:
            continue
        number = token.start[0] - 1
        if (m := BEGIN.match(token.string)) is not None:
            assert opened is None, f"line {number + 1}: BEGIN SOLUTION inside another block"
            assert lines[number].strip() == token.string, f"line {number + 1}: marker must be on its own line"
            opened = (number, lines[number][: token.start[1]], m["description"])
        elif END.match(token.string):
            assert opened is not None, f"line {number + 1}: END SOLUTION without BEGIN"
            blocks.append((opened[0], number, opened[1], opened[2]))
            opened = None
        else:
            pytest.fail(f"line {number + 1}: malformed solution marker: {token.string!r}")
    assert opened is None, f"line {opened[0] + 1}: BEGIN SOLUTION never ended"
    return blocks


def test_solution_markers_are_balanced_and_describe_the_task() -> None:
    blocks = _solution_blocks(NEURAL_NET.read_text(encoding="utf-8"))
    # forward pass, loss, backward pass, minibatch, update, predict
    assert len(blocks) == 6
    for begin, end, _, description in blocks:
        assert end > begin + 1, f"line {begin + 1}: empty solution block"
        # The description is the student's instruction: a sentence, not a placeholder.
        assert len(description.split()) >= 5, f"line {begin + 1}: describe what to implement"


def test_template_made_from_the_markers_is_valid_python() -> None:
    """Replacing every block by TODO + raise (what `grader template` does) still parses."""
    lines = NEURAL_NET.read_text(encoding="utf-8").splitlines()
    blocks = _solution_blocks("\n".join(lines))
    out: list[str] = []
    cursor = 0
    for begin, end, indent, description in blocks:
        out += lines[cursor:begin]
        out += [f"{indent}# TODO: {description}", f"{indent}raise NotImplementedError({description!r})"]
        cursor = end + 1
    out += lines[cursor:]
    template = "\n".join(out)
    tree = ast.parse(template)
    names = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert {"TwoLayerNet", "loss", "train", "predict", "__init__"} <= names
    raises = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", None) == "NotImplementedError"
    ]
    assert len(raises) == 6
