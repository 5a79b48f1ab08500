"""Numbers a probe sends for pictures only: kept apart from what is judged.

A probe may add keys starting with `display.` to what it returns (a training run's loss
history, its accuracy per epoch, the trained first-layer weights). They are never judged
and never earn a point: `split_display` takes them out before the expectation sees the
observation, and `display_of` turns them, validated and bounded, into a `Display` for the
report. The reference's display values (same probe, same inputs) are shown beside the
student's for public checks only: a hidden check's reference run could reveal its inputs.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np

from grader.judge.expectations import Observed
from grader.results import Display
from grader.sandbox.wire import Invalid

__all__ = ["DISPLAY_PREFIX", "display_of", "split_display"]

DISPLAY_PREFIX = "display."
REFERENCE = "reference."
WEIGHTS = "W1"  # the one matrix drawn as an image grid (the handout's show_net_weights)
MAX_HISTORY = 2000  # values kept per history; plots.py reduces further for drawing
MAX_WEIGHTS = 1_000_000  # values of a weight matrix worth a picture
# series drawn per check and side: a forged result cannot grow a results row without bound
MAX_SERIES = 6


def split_display(observed: Observed) -> tuple[dict[str, np.ndarray | Invalid], dict[str, np.ndarray | Invalid]]:
    """(what is judged, what is only displayed), the second keyed without the prefix."""
    judged = {k: v for k, v in observed.items() if not k.startswith(DISPLAY_PREFIX)}
    shown = {k.removeprefix(DISPLAY_PREFIX): v for k, v in observed.items() if k.startswith(DISPLAY_PREFIX)}
    return judged, shown


def display_of(
    own: Mapping[str, np.ndarray | Invalid], reference: Mapping[str, np.ndarray | Invalid] | None
) -> Display | None:
    """The `Display` of one check: the student's histories and weights, and the reference's
    histories (when given) under `reference.<name>`; None when there is nothing to draw."""
    series = [
        (name, values)
        for name, value in sorted(own.items())
        if name != WEIGHTS and (values := _history(value)) is not None
    ][:MAX_SERIES]
    theirs = [
        (REFERENCE + name, values)
        for name, value in sorted((reference or {}).items())
        if name != WEIGHTS and (values := _history(value)) is not None
    ]
    series += theirs[:MAX_SERIES]
    weights = _weights(own.get(WEIGHTS))
    if not series and weights is None:
        return None
    return Display(tuple(series), weights)


def _history(value: np.ndarray | Invalid) -> tuple[float, ...] | None:
    """A 1-D numeric history as floats (NaN/inf kept: the plot shows them as gaps)."""
    if isinstance(value, Invalid) or value.dtype.kind not in "fiub" or value.ndim != 1 or not value.size:
        return None
    values = value.astype(np.float64)
    if values.size > MAX_HISTORY:
        values = values[np.linspace(0, values.size - 1, MAX_HISTORY).round().astype(int)]
    return tuple(float(v) for v in values)


def _weights(value: np.ndarray | Invalid | None) -> tuple[int, int, str] | None:
    """A 2-D weight matrix as one byte per value, each column scaled to its own range."""
    if (
        value is None
        or isinstance(value, Invalid)
        or value.dtype.kind not in "fiub"
        or value.ndim != 2
        or not 0 < value.size <= MAX_WEIGHTS
    ):
        return None
    w = np.nan_to_num(value.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = w.min(axis=0, keepdims=True), w.max(axis=0, keepdims=True)
    scaled = np.round(255.0 * (w - low) / np.where(high > low, high - low, 1.0)).astype(np.uint8)
    return (int(w.shape[0]), int(w.shape[1]), base64.b64encode(scaled.tobytes()).decode("ascii"))


def weights_array(weights: tuple[int, int, str]) -> np.ndarray:
    """The weight matrix `_weights` encoded, as floats in [0, 1] (for `plots.weight_grid`)."""
    rows, cols, data = weights
    raw = np.frombuffer(base64.b64decode(data), dtype=np.uint8)
    if raw.size != rows * cols:
        raise ValueError("weight picture data does not match its shape")
    matrix: np.ndarray = raw.reshape(rows, cols).astype(np.float64) / 255.0
    return matrix
