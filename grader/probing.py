"""Helpers for probe authors (probes.py / hidden_probes.py run in the sandbox and import this).

Imports only numpy and the standard library: it is loaded beside student code, so it
must stay light and must never import the trusted side of the grader.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "DenseLayers",
    "MissingDefinition",
    "mean_cross_entropy",
    "method",
    "numerical_gradient",
    "parameters",
    "quiet",
    "seeded_global",
    "snapshot",
]

_REQUIRED = object()


def snapshot(value: Any) -> Any:
    """A copy of a real ndarray (later calls cannot change what is reported); anything
    else as it is, so the grader can say what type the submission returned."""
    return value.copy() if type(value) is np.ndarray else value


def parameters(
    obj: Any, names: Iterable[str], prefix: str = "", key: str = "", default: Any = _REQUIRED
) -> dict[str, Any]:
    """`{key + name: snapshot(obj.<prefix + name>)}` for each name, e.g. the gradients
    `parameters(model, ("W1", "b1"), prefix="d", key="analytic.")`. Without `default` a
    missing attribute raises (the probe fails, as `getattr` would); with it, it is reported."""
    if default is _REQUIRED:
        return {key + n: snapshot(getattr(obj, prefix + n)) for n in names}
    return {key + n: snapshot(getattr(obj, prefix + n, default)) for n in names}


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5, five_point: bool = False
) -> np.ndarray:
    """Central differences of `f` at `x`, perturbing `x` in place and restoring it.

    Two evaluations per entry by default (the handouts' method); `five_point` uses the
    five-point stencil (four evaluations, error O(h^4)), for tolerances near 1e-9.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        if five_point:
            values = []
            for step in (2 * h, h, -h, -2 * h):
                x[index] = saved + step
                values.append(f(x))
            grad[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
        else:
            x[index] = saved + h
            plus = f(x)
            x[index] = saved - h
            minus = f(x)
            grad[index] = (plus - minus) / (2 * h)
        x[index] = saved
    return grad


def mean_cross_entropy(probabilities: Any, y: np.ndarray) -> float:
    """Mean negative log-probability of the true classes `y` (rows of `probabilities`).

    `probabilities` may be anything array-like the submission returned (a list, float32):
    it is read as float64, so the grader's loss does not inherit the student's precision.
    """
    rows = np.asarray(probabilities, dtype=np.float64)
    return float(-np.mean(np.log(rows[np.arange(len(y)), y])))


class MissingDefinition(AttributeError):
    """A name the handout asks for is missing. The worker reports an exception by the name
    of its type, and the grader shows a `MissingDefinition`'s message even in a hidden
    check (it names only what is missing), so probes raise this, not an AttributeError."""


def method(obj: Any, name: str, needed: str = "the handout asks for it", owner: str | None = None) -> Any:
    """`obj.<name>`, or `MissingDefinition`: "<owner> has no method '<name>' (<needed>)".

    `owner` defaults to "the class " and the name of `obj`'s class (what the student wrote).
    Look every method a probe needs up before it runs anything long, so a missing one is
    named at once.
    """
    try:
        return getattr(obj, name)
    except AttributeError:
        who = owner if owner is not None else f"the class {type(obj).__name__}"
        raise MissingDefinition(f"{who} has no method {name!r} ({needed})") from None


class DenseLayers:
    """A student's network of dense layers, seen in the handout's layout whatever layout
    the student's constructor chose.

    The handout lays a weight out as (inputs, outputs), a layer computing `X @ W + b`; some
    courses transpose it, (outputs, inputs) with `X @ W.T + b`. The layout is read from the
    shape of the first weight in `weights` (give it two different sizes, or the layouts
    cannot be told apart). Values go to the student in their layout (`to_student`) and
    come back in the handout's (`from_student`): a plain transpose, which changes no number.

    `weights` maps each weight to the indices into `sizes` of its (inputs, outputs);
    `biases` each bias to the index of its layer's output size (a bias kept as a row
    (1, n) is accepted). `order` is the order `set_parameters` draws in (by default the
    weights, then the biases); `made_by` and `size_names` word the errors, e.g.
    "fcc(6, 5, 4, 3)" and ("n_input", "n_hidden1", ...).
    """

    def __init__(
        self,
        model: Any,
        sizes: Sequence[int],
        weights: Mapping[str, tuple[int, int]],
        biases: Mapping[str, int],
        *,
        order: Sequence[str] | None = None,
        made_by: str = "the model",
        size_names: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.sizes = tuple(sizes)
        self.weights = dict(weights)
        self.biases = dict(biases)
        self.names = tuple(order) if order is not None else (*self.weights, *self.biases)
        self.transposed = self._read_layout(made_by, size_names or [f"sizes[{i}]" for i in range(len(self.sizes))])
        self.bias_shapes: dict[str, tuple[int, ...]] = {b: tuple(np.shape(getattr(model, b, 0.0))) for b in self.biases}

    def _read_layout(self, made_by: str, size_names: Sequence[str]) -> bool:
        """True when the first weight is laid out (outputs, inputs); raises when it is neither."""
        first, (rows, cols) = next(iter(self.weights.items()))
        if not hasattr(self.model, first):
            raise AttributeError(
                f"{made_by} made no attribute {first}: the handout's weights are {_listed(self.weights)}"
            )
        shape = tuple(np.shape(getattr(self.model, first)))
        n_in, n_out = self.sizes[rows], self.sizes[cols]
        if shape not in ((n_in, n_out), (n_out, n_in)):
            handout, other = f"({size_names[rows]}, {size_names[cols]})", f"({size_names[cols]}, {size_names[rows]})"
            raise ValueError(
                f"{made_by} made {first} of shape {shape}; the handout's layout is {handout} = {(n_in, n_out)}, and {other} is accepted too"
            )
        return shape == (n_out, n_in)

    def canonical_shape(self, name: str) -> tuple[int, ...]:
        """The shape of parameter `name` in the handout's layout."""
        if name in self.weights:
            rows, cols = self.weights[name]
            return (self.sizes[rows], self.sizes[cols])
        return (self.sizes[self.biases[name]],)

    def student_shape(self, name: str) -> tuple[int, ...]:
        """The shape the student's constructor gave parameter `name`."""
        if name in self.weights:
            rows, cols = self.canonical_shape(name)
            return (cols, rows) if self.transposed else (rows, cols)
        shape = self.bias_shapes[name]
        # a bias kept as a row (1, n) is the same bias; anything else gets the handout's (n,)
        return shape if int(np.prod(shape)) == self.sizes[self.biases[name]] else self.canonical_shape(name)

    def to_student(self, name: str, value: np.ndarray) -> np.ndarray:
        """A value in the handout's layout, laid out as the student's parameter `name`."""
        if name in self.weights:
            return np.array(value.T if self.transposed else value, copy=True)
        return np.array(value, copy=True).reshape(self.student_shape(name))

    def from_student(self, name: str, value: Any) -> Any:
        """A copy of the student's parameter or gradient `name` in the handout's layout;
        anything not shaped like the parameter goes back as it is, for the grader to name."""
        if type(value) is not np.ndarray:
            return value
        if value.shape != self.student_shape(name):
            return value.copy()
        if name in self.weights:
            return np.array(value.T if self.transposed else value, copy=True)
        return value.reshape(self.canonical_shape(name)).copy()

    def set_parameters(self, rng: np.random.Generator, scale: float) -> None:
        """Draw every parameter here (handout layout), so the student's init choices do not matter."""
        for name in self.names:
            setattr(self.model, name, self.to_student(name, rng.normal(scale=scale, size=self.canonical_shape(name))))

    def gradients(self, prefix: str = "d") -> dict[str, Any]:
        """The gradients the student stored as `<prefix><name>` (None where missing), in the handout's layout."""
        return {name: self.from_student(name, getattr(self.model, prefix + name, None)) for name in self.names}


def _listed(names: Iterable[str]) -> str:
    """The names joined as in "a, b and c"."""
    *rest, last = names
    return f"{', '.join(rest)} and {last}" if rest else last


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Swallow what the submission prints (a constructor that prints its size); yields it."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        yield printed


@contextlib.contextmanager
def seeded_global(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (what handout code such as `np.random.randn` draws
    from) for a toy case, and give the previous state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
