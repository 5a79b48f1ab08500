"""Bounds: a value (or an accuracy computed here from labels the sandbox never sees) at
most or at least a limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from grader.judge.measures import Observed, Unjudgeable, Verdict, array_named, finite, fmt, shaped_like, verdict_of

__all__ = ["AccuracyAtLeast", "AtLeast", "AtMost"]


@dataclass(frozen=True, slots=True)
class _Bound:
    """A scalar observation on one side of `bound`; `upper` says which side."""

    kind: ClassVar[str]
    needs_reference: ClassVar[bool] = False
    upper: ClassVar[bool]
    bound: float
    what: str = "value"
    key: str = "value"

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        return verdict_of(
            lambda: _bound(_scalar(observed, self.key, self.what), self.bound, self.what, upper=self.upper)
        )

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
    got = array_named(observed, key, what)
    if got.size != 1:
        raise Unjudgeable(f"{what}: expected a single number, got shape {got.shape}")
    return float(finite(got, what).reshape(-1)[0])


def _bound(value: float, bound: float, what: str, upper: bool) -> Verdict:
    ok = value <= bound if upper else value >= bound
    word = "at most" if upper else "at least"
    # an upper bound on a loss is an error measure the class page can draw; a lower one is not
    error, tolerance = (value, bound) if upper else (None, None)
    if ok:
        return Verdict(1.0, f"{what} {fmt(value)} (needs {word} {bound:g})", (), error, tolerance)
    miss = f"{fmt(abs(value - bound))} too {'high' if upper else 'low'}"
    return Verdict(0.0, f"{what} {fmt(value)}, needs {word} {bound:g} ({miss})", (), error, tolerance)


@dataclass(frozen=True, slots=True)
class AccuracyAtLeast:
    """Predicted labels reach `threshold` accuracy on labels the sandbox never sees."""

    kind: ClassVar[str] = "accuracy_at_least"
    needs_reference: ClassVar[bool] = False
    threshold: float
    labels: str
    key: str = "predictions"

    def judge(
        self, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray], public: bool
    ) -> Verdict:
        return verdict_of(lambda: self._judge(observed, secrets))

    def _judge(self, observed: Observed, secrets: Mapping[str, np.ndarray]) -> Verdict:
        truth = secrets[self.labels]
        got = shaped_like(array_named(observed, self.key, "predictions"), truth, "predictions")
        # Integer-valued floats are labels too: np.zeros(N) filled in a loop is float.
        if got.dtype.kind == "f" and not np.all(np.isfinite(got) & (got == np.round(got))):
            raise Unjudgeable(
                f"predictions: expected class labels (whole numbers), got dtype {got.dtype} with fractions"
            )
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
