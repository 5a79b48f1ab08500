"""Helpers for probe authors (probes.py / hidden_probes.py run in the sandbox and import this).

Imports only numpy and the standard library: it is loaded beside student code, so it
must stay light and must never import the trusted side of the grader.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["mean_cross_entropy", "numerical_gradient", "parameters", "quiet", "seeded_global", "snapshot"]

_REQUIRED = object()


def snapshot(value: Any) -> Any:
    """A copy of a real ndarray (later calls cannot change what is reported); anything
    else as it is, so the grader can say what type the submission returned."""
    return value.copy() if type(value) is np.ndarray else value


def parameters(obj: Any, names: Iterable[str], prefix: str = "", key: str = "", default: Any = _REQUIRED) -> dict[str, Any]:
    """`{key + name: snapshot(obj.<prefix + name>)}` for each name, e.g. the gradients
    `parameters(model, ("W1", "b1"), prefix="d", key="analytic.")`. Without `default` a
    missing attribute raises (the probe fails, as `getattr` would); with it, it is reported."""
    if default is _REQUIRED:
        return {key + n: snapshot(getattr(obj, prefix + n)) for n in names}
    return {key + n: snapshot(getattr(obj, prefix + n, default)) for n in names}


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5, five_point: bool = False) -> np.ndarray:
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


def mean_cross_entropy(probabilities: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-probability of the true classes `y` (rows of `probabilities`)."""
    return float(-np.mean(np.log(probabilities[np.arange(len(y)), y])))


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
