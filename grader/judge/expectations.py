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
from typing import Any, ClassVar

import numpy as np

from grader.judge.bounds import AccuracyAtLeast, AtLeast, AtMost
from grader.judge.measures import (
    REL_FLOOR,
    Expectation,
    Observed,
    Unjudgeable,
    Verdict,
    array_named,
    finite,
    fmt,
    fmt_small,
    prefix,
    rel_error,
    shaped_like,
    verdict_of,
    worst_rows,
)

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

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        assert reference is not None
        keys = sorted(reference)
        verdicts = [
            verdict_of(lambda k=k: self._judge_key(k, observed, reference, public, len(keys) > 1)) for k in keys
        ]
        return _combine(verdicts, self.partial)

    def _judge_key(self, key: str, observed: Observed, reference: Observed, public: bool, named: bool) -> Verdict:
        label = key if named else ""
        expected = reference[key]
        assert isinstance(expected, np.ndarray), "reference observations are validated when cached"
        got = shaped_like(array_named(observed, key, label), expected, label)
        if self.exact:
            same = got == expected
            if same.all():
                return Verdict(1.0, f"{prefix(label)}all {got.size} values equal the reference")
            rows = worst_rows(got.astype(float), expected.astype(float), (~same).astype(float), 0.0) if public else ()
            return Verdict(
                0.0, f"{prefix(label)}{int((~same).sum())} of {got.size} values differ from the reference", rows
            )
        values, wanted = finite(got, label), expected.astype(np.float64)
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
            return Verdict(1.0, f"{prefix(label)}{measure} {fmt_small(value)} (at most {limit:g})", (), value, limit)
        line = f"{prefix(label)}{measure} {fmt_small(value)}, needs at most {limit:g}"
        details = (
            worst_rows(values, wanted, errors, limit)
            if public
            else (f"{int((~(errors <= limit)).sum())} of {errors.size} elements differ",)
        )
        if public and values.ndim == 0:
            details = (f"got {fmt(float(values))}, expected {fmt(float(wanted))}",)
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

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        assert reference is not None
        params = sorted(k.removeprefix("analytic.") for k in reference if k.startswith("analytic."))
        return _combine(
            [verdict_of(lambda p=p: self._judge_param(p, observed, reference)) for p in params], partial=True
        )

    def _judge_param(self, param: str, observed: Observed, reference: Observed) -> Verdict:
        expected = reference[f"analytic.{param}"]
        assert isinstance(expected, np.ndarray)
        analytic = finite(
            shaped_like(array_named(observed, f"analytic.{param}", f"d{param}"), expected, f"d{param}"), f"d{param}"
        )
        numeric = finite(
            shaped_like(
                array_named(observed, f"numeric.{param}", f"numerical d{param}"), expected, f"numerical d{param}"
            ),
            f"numerical d{param}",
        )
        limit = self.rel_error
        vs_numeric = float(rel_error(analytic, numeric, self.floor).max(initial=0.0))
        if not vs_numeric <= limit:
            return Verdict(
                0.0,
                f"d{param}: relative error against the numerical gradient {fmt_small(vs_numeric)}, needs at most {limit:g}",
                (),
                vs_numeric,
                limit,
            )
        vs_reference = (
            float(rel_error(analytic, expected.astype(np.float64), self.floor).max(initial=0.0))
            if self.against_reference
            else 0.0
        )
        if not vs_reference <= limit:
            return Verdict(
                0.0,
                f"d{param}: relative error against the reference gradient {fmt_small(vs_reference)}, needs at most {limit:g}",
                (),
                vs_reference,
                limit,
            )
        worst = max(vs_numeric, vs_reference)
        return Verdict(1.0, f"d{param}: relative error {fmt_small(worst)} (at most {limit:g})", (), worst, limit)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rel_error": self.rel_error,
            "against_reference": self.against_reference,
            "floor": self.floor,
        }


@dataclass(frozen=True, slots=True)
class IsFinite:
    """Every value of the observation is finite (no NaN, no overflow to inf)."""

    kind: ClassVar[str] = "is_finite"
    needs_reference: ClassVar[bool] = False
    key: str = "value"

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        def run() -> Verdict:
            label = "" if self.key == "value" else self.key
            got = finite(array_named(observed, self.key, label), label)
            return Verdict(1.0, f"{prefix(label)}all {got.size} values finite")

        return verdict_of(run)

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

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        def run() -> Verdict:
            label = "" if self.key == "value" else self.key
            got = finite(array_named(observed, self.key, label), label)
            if got.ndim != 2:
                raise Unjudgeable(f"{prefix(label)}expected a 2-D array, got shape {got.shape}")
            miss = np.abs(got.sum(axis=1) - self.total)
            worst = float(miss.max(initial=0.0))
            if worst <= self.tol:
                return Verdict(1.0, f"{prefix(label)}every row sums to {self.total:g}")
            row = int(np.argmax(miss))
            return Verdict(
                0.0,
                f"{prefix(label)}row {row} sums to {fmt(float(got[row].sum()))}, expected {self.total:g} (off {fmt_small(worst)})",
            )

        return verdict_of(run)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "total": self.total, "tol": self.tol, "key": self.key}


@dataclass(frozen=True, slots=True)
class Decreases:
    """A sequence (e.g. per-epoch losses) ends lower than it starts."""

    kind: ClassVar[str] = "decreases"
    needs_reference: ClassVar[bool] = False
    key: str = "losses"
    what: str = "loss"

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        def run() -> Verdict:
            got = finite(array_named(observed, self.key, self.what), self.what).reshape(-1)
            if got.size < 2:
                raise Unjudgeable(f"{self.what}: expected a history of at least 2 values, got {got.size}")
            first, last = float(got[0]), float(got[-1])
            if last < first:
                return Verdict(1.0, f"{self.what} fell from {fmt(first)} to {fmt(last)}")
            return Verdict(0.0, f"{self.what} did not decrease: {fmt(first)} at first, {fmt(last)} at the end")

        return verdict_of(run)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "what": self.what}


# compute(observed, secrets) -> arrays by name, for a `Computed` expectation
Compute = Callable[[Observed, Mapping[str, np.ndarray]], Mapping[str, Any]]


def observed_array(observed: Observed, key: str, shape: tuple[int, ...] | None = None, label: str = "") -> np.ndarray:
    """A validated float64 copy of `observed[key]` for a `Computed` expectation's code:
    numeric, of `shape` when given, finite. Raises `Unjudgeable` saying what is wrong."""
    got = array_named(observed, key, label or key)
    if shape is not None and got.shape != shape:
        raise Unjudgeable(f"{label or key}: expected shape {shape}, got {got.shape}")
    return np.array(finite(got, label or key), dtype=np.float64)


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

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
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

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
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
