"""What every expectation shares: the verdict, the checks an observed value passes first
(an array, a numeric dtype, the exact shape, finite), the relative error and the wording of
a miss. The expectation kinds themselves are in `grader.judge.expectations`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from grader.sandbox.wire import Invalid

__all__ = [
    "HANDOUT_FLOOR",
    "MAX_ROWS",
    "REL_FLOOR",
    "Expectation",
    "Observed",
    "Unjudgeable",
    "Verdict",
    "array_named",
    "finite",
    "fmt",
    "fmt_small",
    "index_text",
    "prefix",
    "rel_error",
    "shaped_like",
    "verdict_of",
    "worst_rows",
]

Observed = Mapping[str, "np.ndarray | Invalid"]
MAX_ROWS = 5


@dataclass(frozen=True, slots=True)
class Verdict:
    """A judgement: the fraction of the check's points earned and why."""

    fraction: float
    message: str
    details: tuple[str, ...] = ()
    # The size of the miss and the limit it is held to, when the check measures an error
    # (the class page draws each check's errors against its tolerance); None otherwise.
    error: float | None = None
    tolerance: float | None = None

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0


class Expectation(Protocol):
    """What every expectation kind provides (see the module docstring)."""

    kind: ClassVar[str]

    @property
    def needs_reference(self) -> bool:
        """Whether `judge` needs the reference's observation of the same probe."""

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict: ...

    def to_json(self) -> dict[str, Any]: ...


class Unjudgeable(Exception):
    """A value that cannot be compared; the message says why (in the student's terms).

    Raised by the helpers here and by a `Computed` expectation's `compute`; the check
    then scores 0 with this message.
    """


# -- shared validation and formatting ------------------------------------------------


def fmt(x: float) -> str:
    """A value to 8 significant figures: enough to show the digit that differs."""
    return f"{x:.8g}"


def fmt_small(x: float) -> str:
    """A difference, rounded to 2 significant figures."""
    return f"{x:.1e}" if x != 0 and (abs(x) < 1e-2 or abs(x) >= 1e4) else f"{x:.2g}"


def prefix(label: str) -> str:
    return f"{label}: " if label else ""


def array_named(observed: Observed, key: str, label: str) -> np.ndarray:
    if key not in observed:
        raise Unjudgeable(f"{prefix(label)}no value came back (the probe returned nothing for {key!r})")
    value = observed[key]
    if isinstance(value, Invalid):
        raise Unjudgeable(f"{prefix(label)}expected a numpy array, got {value.describe()}")
    if value.dtype.kind not in "fiub":
        raise Unjudgeable(f"{prefix(label)}expected numbers, got dtype {value.dtype}")
    array: np.ndarray = value
    return array


def shaped_like(got: np.ndarray, expected: np.ndarray, label: str) -> np.ndarray:
    if got.shape != expected.shape:
        raise Unjudgeable(f"{prefix(label)}expected shape {expected.shape}, got {got.shape}")
    return got


def finite(got: np.ndarray, label: str) -> np.ndarray:
    values = got.astype(np.float64, copy=False)
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(values[bad]).any() else "infinite"
        where = f", first at {list(first)}" if got.ndim else ""
        raise Unjudgeable(f"{prefix(label)}got {int(bad.sum())} {kind} value{'s' * (int(bad.sum()) != 1)}{where}")
    return values


def index_text(flat_index: int, shape: tuple[int, ...]) -> str:
    # plain ints: numpy 2 would print [np.int64(1), np.int64(2)]
    return str([int(i) for i in np.unravel_index(flat_index, shape)]) if shape else "[]"


def worst_rows(got: np.ndarray, expected: np.ndarray, errors: np.ndarray, limit: float) -> tuple[str, ...]:
    """The per-element table: how many differ, the worst few, and how many more."""
    flat_err = errors.reshape(-1)
    differ = np.flatnonzero(~(flat_err <= limit))
    if differ.size == 0:
        return ()
    order = differ[np.argsort(-flat_err[differ], kind="stable")]
    got_flat, exp_flat = got.reshape(-1), expected.reshape(-1)
    rows = [f"{differ.size} of {flat_err.size} elements differ"]
    for rank, i in enumerate(order[:MAX_ROWS]):
        label = "worst" if rank == 0 else "next"
        diff = abs(float(got_flat[i]) - float(exp_flat[i]))
        rows.append(
            f"{label} {index_text(int(i), got.shape)}: got {fmt(float(got_flat[i]))}, expected {fmt(float(exp_flat[i]))} (off {fmt_small(diff)})"
        )
    if order.size > MAX_ROWS:
        rows.append(f"and {order.size - MAX_ROWS} more")
    return tuple(rows)


# The handout's absolute floor of the relative error's denominator.
HANDOUT_FLOOR = 1e-8
# The default floor relative to the magnitude of the values compared (see rel_error).
REL_FLOOR = 1e-6


def rel_error(x: np.ndarray, y: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """The handout's relative error with a floor scaled to the values, elementwise:

        |x - y| / max(|x| + |y|, floor * max(max|x|, max|y|), 1e-8)

    With `floor=0` this is the handout's formula. An entry that cancels to nearly zero
    (1e-12 where its neighbours are near 1) carries the rounding error of its neighbours,
    not of itself: measured against its own size it can miss by 1e-4 in correct code
    that only sums in another order. The floor measures such entries against a fraction
    of the largest value compared instead.
    """
    scale = max(float(np.abs(x).max(initial=0.0)), float(np.abs(y).max(initial=0.0)))
    denominator = np.maximum(np.abs(x) + np.abs(y), max(floor * scale, HANDOUT_FLOOR))
    error: np.ndarray = np.abs(x - y) / denominator
    return error


def verdict_of(run: Any) -> Verdict:
    try:
        result: Verdict = run()
        return result
    except Unjudgeable as failure:
        return Verdict(0.0, str(failure))


# -- kinds ---------------------------------------------------------------------------
