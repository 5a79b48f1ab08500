"""Expectations: how the trusted side judges what a probe observed.

Each kind is a small frozen dataclass with one method, `judge(observed, reference,
secrets, public) -> Verdict`. `observed` and `reference` map names to validated arrays
(or `Invalid` when the worker could not send a number); `secrets` holds what never enters
the sandbox (hidden labels). Every judgement checks, in this order, that the value is an
array, its numeric dtype, its exact shape, that it is finite, and only then the error,
phrased so that a NaN fails (SANDBOX.md trap 6).

For a hidden check (`public=False`) messages give the measure and the size of the miss,
never the expected values or the inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from grader.sandbox.wire import Invalid

__all__ = [
    "AccuracyAtLeast",
    "AllOf",
    "AtLeast",
    "AtMost",
    "Computed",
    "Decreases",
    "Expectation",
    "GradientsAgree",
    "IsFinite",
    "MatchesReference",
    "Observed",
    "RowsSumTo",
    "Unjudgeable",
    "Verdict",
    "all_of",
    "expectation_from_json",
    "observed_array",
    "rel_error",
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

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict: ...

    def to_json(self) -> dict[str, Any]: ...


class Unjudgeable(Exception):
    """A value that cannot be compared; the message says why (in the student's terms).

    Raised by the helpers here and by a `Computed` expectation's `compute`; the check
    then scores 0 with this message.
    """


# -- shared validation and formatting ------------------------------------------------


def _fmt(x: float) -> str:
    """A value to 8 significant figures: enough to show the digit that differs."""
    return f"{x:.8g}"


def _fmt_small(x: float) -> str:
    """A difference, rounded to 2 significant figures."""
    return f"{x:.1e}" if x != 0 and (abs(x) < 1e-2 or abs(x) >= 1e4) else f"{x:.2g}"


def _prefix(label: str) -> str:
    return f"{label}: " if label else ""


def _array(observed: Observed, key: str, label: str) -> np.ndarray:
    if key not in observed:
        raise Unjudgeable(f"{_prefix(label)}no value came back (the probe returned nothing for {key!r})")
    value = observed[key]
    if isinstance(value, Invalid):
        raise Unjudgeable(f"{_prefix(label)}expected a numpy array, got {value.describe()}")
    if value.dtype.kind not in "fiub":
        raise Unjudgeable(f"{_prefix(label)}expected numbers, got dtype {value.dtype}")
    array: np.ndarray = value
    return array


def _shaped_like(got: np.ndarray, expected: np.ndarray, label: str) -> np.ndarray:
    if got.shape != expected.shape:
        raise Unjudgeable(f"{_prefix(label)}expected shape {expected.shape}, got {got.shape}")
    return got


def _finite(got: np.ndarray, label: str) -> np.ndarray:
    values = got.astype(np.float64, copy=False)
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(values[bad]).any() else "infinite"
        where = f", first at {list(first)}" if got.ndim else ""
        raise Unjudgeable(f"{_prefix(label)}got {int(bad.sum())} {kind} value{'s' * (int(bad.sum()) != 1)}{where}")
    return values


def _index(flat_index: int, shape: tuple[int, ...]) -> str:
    # plain ints: numpy 2 would print [np.int64(1), np.int64(2)]
    return str([int(i) for i in np.unravel_index(flat_index, shape)]) if shape else "[]"


def _worst_rows(got: np.ndarray, expected: np.ndarray, errors: np.ndarray, limit: float) -> tuple[str, ...]:
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
        rows.append(f"{label} {_index(int(i), got.shape)}: got {_fmt(float(got_flat[i]))}, expected {_fmt(float(exp_flat[i]))} (off {_fmt_small(diff)})")
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


def _verdict(run: Any) -> Verdict:
    try:
        result: Verdict = run()
        return result
    except Unjudgeable as failure:
        return Verdict(0.0, str(failure))


# -- kinds ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchesReference:
    """The observation matches the reference's observation from the same probe.

    Exactly one measure: `sum_abs` (sum of |got - expected|), `max_abs` (largest
    |got - expected|), `rel` (largest relative error, the handout's formula) or
    `exact=True` (integer or boolean results). With several keys (e.g. one per
    parameter), `partial=True` gives credit per key.
    """

    kind: ClassVar[str] = "matches_reference"
    needs_reference: ClassVar[bool] = True
    sum_abs: float | None = None
    max_abs: float | None = None
    rel: float | None = None
    exact: bool = False
    partial: bool = False
    floor: float = REL_FLOOR  # for `rel`: see `rel_error`

    def __post_init__(self) -> None:
        chosen = [m for m in (self.sum_abs, self.max_abs, self.rel) if m is not None] + ([1] if self.exact else [])
        if len(chosen) != 1:
            raise ValueError("matches_reference takes exactly one of sum_abs=, max_abs=, rel=, exact=True")

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        assert reference is not None
        keys = sorted(reference)
        verdicts = [_verdict(lambda k=k: self._judge_key(k, observed, reference, public, len(keys) > 1)) for k in keys]
        return _combine(verdicts, self.partial)

    def _judge_key(self, key: str, observed: Observed, reference: Observed, public: bool, named: bool) -> Verdict:
        label = key if named else ""
        expected = reference[key]
        assert isinstance(expected, np.ndarray), "reference observations are validated when cached"
        got = _shaped_like(_array(observed, key, label), expected, label)
        if self.exact:
            same = got == expected
            if same.all():
                return Verdict(1.0, f"{_prefix(label)}all {got.size} values equal the reference")
            rows = _worst_rows(got.astype(float), expected.astype(float), (~same).astype(float), 0.0) if public else ()
            return Verdict(0.0, f"{_prefix(label)}{int((~same).sum())} of {got.size} values differ from the reference", rows)
        values, wanted = _finite(got, label), expected.astype(np.float64)
        if self.sum_abs is not None:
            measure, limit, errors = "sum of |got - expected|", self.sum_abs, np.abs(values - wanted)
            value = float(errors.sum())
        elif self.max_abs is not None:
            measure, limit, errors = "max |got - expected|", self.max_abs, np.abs(values - wanted)
            value = float(errors.max(initial=0.0))
        else:
            assert self.rel is not None
            measure, limit, errors = "relative error", self.rel, rel_error(values, wanted, self.floor)
            value = float(errors.max(initial=0.0))
        if value <= limit:
            return Verdict(1.0, f"{_prefix(label)}{measure} {_fmt_small(value)} (at most {limit:g})", (), value, limit)
        line = f"{_prefix(label)}{measure} {_fmt_small(value)}, needs at most {limit:g}"
        details = _worst_rows(values, wanted, errors, limit) if public else (f"{int((~(errors <= limit)).sum())} of {errors.size} elements differ",)
        if public and values.ndim == 0:
            details = (f"got {_fmt(float(values))}, expected {_fmt(float(wanted))}",)
        return Verdict(0.0, line, details, value, limit)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


@dataclass(frozen=True, slots=True)
class GradientsAgree:
    """Analytic gradients agree with the numerical gradient and with the reference.

    The probe sends `analytic.<param>` and `numeric.<param>` for each parameter; each
    parameter earns its share of the points when both relative errors are below `rel_error`.
    """

    kind: ClassVar[str] = "gradients_agree"
    needs_reference: ClassVar[bool] = True
    rel_error: float = 1e-8
    against_reference: bool = True
    floor: float = REL_FLOOR  # see `rel_error`

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        assert reference is not None
        params = sorted(k.removeprefix("analytic.") for k in reference if k.startswith("analytic."))
        return _combine([_verdict(lambda p=p: self._judge_param(p, observed, reference)) for p in params], partial=True)

    def _judge_param(self, param: str, observed: Observed, reference: Observed) -> Verdict:
        expected = reference[f"analytic.{param}"]
        assert isinstance(expected, np.ndarray)
        analytic = _finite(_shaped_like(_array(observed, f"analytic.{param}", f"d{param}"), expected, f"d{param}"), f"d{param}")
        numeric = _finite(_shaped_like(_array(observed, f"numeric.{param}", f"numerical d{param}"), expected, f"numerical d{param}"), f"numerical d{param}")
        limit = self.rel_error
        vs_numeric = float(rel_error(analytic, numeric, self.floor).max(initial=0.0))
        if not vs_numeric <= limit:
            return Verdict(0.0, f"d{param}: relative error against the numerical gradient {_fmt_small(vs_numeric)}, needs at most {limit:g}", (), vs_numeric, limit)
        vs_reference = float(rel_error(analytic, expected.astype(np.float64), self.floor).max(initial=0.0)) if self.against_reference else 0.0
        if not vs_reference <= limit:
            return Verdict(0.0, f"d{param}: relative error against the reference gradient {_fmt_small(vs_reference)}, needs at most {limit:g}", (), vs_reference, limit)
        worst = max(vs_numeric, vs_reference)
        return Verdict(1.0, f"d{param}: relative error {_fmt_small(worst)} (at most {limit:g})", (), worst, limit)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "rel_error": self.rel_error, "against_reference": self.against_reference, "floor": self.floor}


@dataclass(frozen=True, slots=True)
class _Bound:
    """A scalar observation on one side of `bound`; `upper` says which side."""

    kind: ClassVar[str]
    needs_reference: ClassVar[bool] = False
    upper: ClassVar[bool]
    bound: float
    what: str = "value"
    key: str = "value"

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        return _verdict(lambda: _bound(_scalar(observed, self.key, self.what), self.bound, self.what, upper=self.upper))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "bound": self.bound, "what": self.what, "key": self.key}


@dataclass(frozen=True, slots=True)
class AtMost(_Bound):
    """A scalar observation is at most `bound` (e.g. a final training loss)."""

    kind: ClassVar[str] = "at_most"
    upper: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class AtLeast(_Bound):
    """A scalar observation is at least `bound`."""

    kind: ClassVar[str] = "at_least"
    upper: ClassVar[bool] = False


def _scalar(observed: Observed, key: str, what: str) -> float:
    got = _array(observed, key, what)
    if got.size != 1:
        raise Unjudgeable(f"{what}: expected a single number, got shape {got.shape}")
    return float(_finite(got, what).reshape(-1)[0])


def _bound(value: float, bound: float, what: str, upper: bool) -> Verdict:
    ok = value <= bound if upper else value >= bound
    word = "at most" if upper else "at least"
    # an upper bound on a loss is an error measure the class page can draw; a lower one is not
    error, tolerance = (value, bound) if upper else (None, None)
    if ok:
        return Verdict(1.0, f"{what} {_fmt(value)} (needs {word} {bound:g})", (), error, tolerance)
    miss = f"{_fmt(abs(value - bound))} too {'high' if upper else 'low'}"
    return Verdict(0.0, f"{what} {_fmt(value)}, needs {word} {bound:g} ({miss})", (), error, tolerance)


@dataclass(frozen=True, slots=True)
class AccuracyAtLeast:
    """Predicted labels reach `threshold` accuracy on labels the sandbox never sees."""

    kind: ClassVar[str] = "accuracy_at_least"
    needs_reference: ClassVar[bool] = False
    threshold: float
    labels: str
    key: str = "predictions"

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        return _verdict(lambda: self._judge(observed, secrets))

    def _judge(self, observed: Observed, secrets: Mapping[str, np.ndarray]) -> Verdict:
        truth = secrets[self.labels]
        got = _shaped_like(_array(observed, self.key, "predictions"), truth, "predictions")
        # Integer-valued floats are labels too: np.zeros(N) filled in a loop is float.
        if got.dtype.kind == "f" and not np.all(np.isfinite(got) & (got == np.round(got))):
            raise Unjudgeable(f"predictions: expected class labels (whole numbers), got dtype {got.dtype} with fractions")
        accuracy = float(np.mean(got == truth))
        ok = accuracy >= self.threshold
        line = f"accuracy {accuracy:.1%} on {truth.size} held-out examples"
        if ok:
            return Verdict(1.0, f"{line} (needs at least {self.threshold:.1%})")
        # percentage points, said as such: 62% against 85% is 23 points short, not "27% short"
        short = 100.0 * (self.threshold - accuracy)
        return Verdict(0.0, f"{line}, needs at least {self.threshold:.1%} ({short:.1f} percentage points short)")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "threshold": self.threshold, "labels": self.labels, "key": self.key}


@dataclass(frozen=True, slots=True)
class IsFinite:
    """Every value of the observation is finite (no NaN, no overflow to inf)."""

    kind: ClassVar[str] = "is_finite"
    needs_reference: ClassVar[bool] = False
    key: str = "value"

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        def run() -> Verdict:
            label = "" if self.key == "value" else self.key
            got = _finite(_array(observed, self.key, label), label)
            return Verdict(1.0, f"{_prefix(label)}all {got.size} values finite")

        return _verdict(run)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key}


@dataclass(frozen=True, slots=True)
class RowsSumTo:
    """Each row of a 2-D observation sums to `total` within `tol` (probabilities)."""

    kind: ClassVar[str] = "rows_sum_to"
    needs_reference: ClassVar[bool] = False
    total: float = 1.0
    tol: float = 1e-10
    key: str = "value"

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        def run() -> Verdict:
            label = "" if self.key == "value" else self.key
            got = _finite(_array(observed, self.key, label), label)
            if got.ndim != 2:
                raise Unjudgeable(f"{_prefix(label)}expected a 2-D array, got shape {got.shape}")
            miss = np.abs(got.sum(axis=1) - self.total)
            worst = float(miss.max(initial=0.0))
            if worst <= self.tol:
                return Verdict(1.0, f"{_prefix(label)}every row sums to {self.total:g}")
            row = int(np.argmax(miss))
            return Verdict(0.0, f"{_prefix(label)}row {row} sums to {_fmt(float(got[row].sum()))}, expected {self.total:g} (off {_fmt_small(worst)})")

        return _verdict(run)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "total": self.total, "tol": self.tol, "key": self.key}


@dataclass(frozen=True, slots=True)
class Decreases:
    """A sequence (e.g. per-epoch losses) ends lower than it starts."""

    kind: ClassVar[str] = "decreases"
    needs_reference: ClassVar[bool] = False
    key: str = "losses"
    what: str = "loss"

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        def run() -> Verdict:
            got = _finite(_array(observed, self.key, self.what), self.what).reshape(-1)
            if got.size < 2:
                raise Unjudgeable(f"{self.what}: expected a history of at least 2 values, got {got.size}")
            first, last = float(got[0]), float(got[-1])
            if last < first:
                return Verdict(1.0, f"{self.what} fell from {_fmt(first)} to {_fmt(last)}")
            return Verdict(0.0, f"{self.what} did not decrease: {_fmt(first)} at first, {_fmt(last)} at the end")

        return _verdict(run)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "what": self.what}


# compute(observed, secrets) -> arrays by name, for a `Computed` expectation
Compute = Callable[[Observed, Mapping[str, np.ndarray]], Mapping[str, Any]]


def observed_array(observed: Observed, key: str, shape: tuple[int, ...] | None = None, label: str = "") -> np.ndarray:
    """A validated float64 copy of `observed[key]` for a `Computed` expectation's code:
    numeric, of `shape` when given, finite. Raises `Unjudgeable` saying what is wrong."""
    got = _array(observed, key, label or key)
    if shape is not None and got.shape != shape:
        raise Unjudgeable(f"{label or key}: expected shape {shape}, got {got.shape}")
    return np.array(_finite(got, label or key), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Computed:
    """The grader computes what it grades: `compute` turns what the probe returned into
    the values `then` judges, on the trusted side.

    For a number the submission could simply report (a final training loss, an
    accuracy), the probe returns what the number is computed *from* (the trained
    parameters) and `compute`, trusted code in checks.py that may use the reference
    solution, computes the number itself. `compute(observed, secrets)` returns arrays by
    name; it raises `Unjudgeable` (see `observed_array`) when what came back cannot be
    used; a ValueError or arithmetic error from numpy on the student's arrays counts the
    same way.

    `to_json()` writes `then` alone: the students' self-check has no reference code, so
    there `then` judges the key the probe reports beside the parameters (the value the
    submission computes itself). Grading never reads that key.
    """

    kind: ClassVar[str] = "computed"
    compute: Compute
    then: Expectation
    what: str = "value"

    @property
    def needs_reference(self) -> bool:
        return self.then.needs_reference

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        try:
            with np.errstate(all="ignore"):
                values = {k: np.asarray(v, dtype=np.float64) for k, v in self.compute(observed, secrets).items()}
        except Unjudgeable as failure:
            return Verdict(0.0, str(failure))
        except (ValueError, ArithmeticError, IndexError, TypeError) as exc:
            # Only a public check may echo numpy's message (it can name hidden sizes).
            said = f": {type(exc).__name__}: {exc}" if public else f" ({type(exc).__name__})"
            return Verdict(0.0, f"{self.what}: cannot be computed from what your code returned{said}")
        return self.then.judge(values, reference, secrets, public)

    def to_json(self) -> dict[str, Any]:
        return self.then.to_json()


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every part must hold; the first failure is reported."""

    kind: ClassVar[str] = "all_of"
    parts: tuple[Expectation, ...]

    @property
    def needs_reference(self) -> bool:
        return any(p.needs_reference for p in self.parts)

    def judge(self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool) -> Verdict:
        verdicts = [p.judge(observed, reference, secrets, public) for p in self.parts]
        failed = [v for v in verdicts if not v.passed]
        if failed:
            return Verdict(0.0, failed[0].message, failed[0].details)
        return Verdict(1.0, "; ".join(v.message for v in verdicts))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "parts": [p.to_json() for p in self.parts]}


def _combine(verdicts: list[Verdict], partial: bool) -> Verdict:
    if len(verdicts) == 1:
        return verdicts[0]
    passed = sum(v.passed for v in verdicts)
    fraction = passed / len(verdicts) if partial else float(passed == len(verdicts))
    failed = [v for v in verdicts if not v.passed]
    # the worst part's error stands for the check; unknown if any part could not be measured
    errors = [v.error for v in verdicts]
    error = None if any(e is None for e in errors) else max(e for e in errors if e is not None)
    tolerance = verdicts[0].tolerance if error is not None else None
    if not failed:
        return Verdict(1.0, f"all {len(verdicts)} agree", tuple(v.message for v in verdicts), error, tolerance)
    head = f"{len(failed)} of {len(verdicts)} wrong: " + failed[0].message
    return Verdict(fraction, head, tuple(v.message for v in failed[1:]) + failed[0].details, error, tolerance)


_KINDS: dict[str, Any] = {
    cls.kind: cls
    for cls in (MatchesReference, GradientsAgree, AtMost, AtLeast, AccuracyAtLeast, IsFinite, RowsSumTo, Decreases)
}


def expectation_from_json(data: Mapping[str, Any]) -> Expectation:
    """Rebuild an expectation written by `to_json` (used by the students' self-check)."""
    kind = data.get("kind")
    params = {k: v for k, v in data.items() if k != "kind"}
    if kind == AllOf.kind:
        return AllOf(tuple(expectation_from_json(p) for p in params["parts"]))
    if kind not in _KINDS:
        raise ValueError(f"unknown expectation kind {kind!r}")
    result: Expectation = _KINDS[kind](**params)
    return result


def all_of(*parts: Expectation) -> AllOf:
    """Every expectation must hold: `all_of(is_finite(), rows_sum_to(1.0))`."""
    return AllOf(tuple(parts))
