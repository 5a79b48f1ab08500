"""Numerical gradients for checking analytic ones (cs231n's gradient_check, unchanged).

Students compare their backward pass against `eval_numerical_gradient`; the handout's
"max relative error < 1e-8" is measured against exactly this centred difference with
h = 1e-5, so its behaviour must not change.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    verbose: bool = True,
    h: float = 0.00001,
) -> np.ndarray:
    """
    a naive implementation of numerical gradient of f at x
    - f should be a function that takes a single argument
    - x is the point (numpy array) to evaluate the gradient at

    x is perturbed in place (and restored), so f may read x through a closure,
    as in the handout's `lambda W: net.loss(X, y, reg=0.1)[0]`.
    """
    # evaluate function value at original point (unused, but cs231n calls f here too)
    fx = f(x)  # noqa: F841
    grad = np.zeros_like(x)
    # iterate over all indexes in x
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        # evaluate function at x+h
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h  # increment by h
        fxph = f(x)  # evaluate f(x + h)
        x[ix] = oldval - h
        fxmh = f(x)  # evaluate f(x - h)
        x[ix] = oldval  # restore

        # compute the partial derivative with centered formula
        grad[ix] = (fxph - fxmh) / (2 * h)  # the slope
        if verbose:
            print(ix, grad[ix])
        it.iternext()  # step to next dimension

    return grad
