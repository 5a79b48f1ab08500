"""What one batch shares: how workers run (`RunSettings`) and what judging needs (`BatchContext`).

The reference's values are observed with `RunSettings` alone; the complete `BatchContext`
is built once they are known (see `grader.course.batch.prepared_context`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.assignment import Assignment, Check
from grader.judge.diagnosis import KnownMistakes
from grader.judge.expectations import Observed
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits

__all__ = ["BatchContext", "RunSettings"]


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How one batch's workers run: the assignment, seed, data, isolation and limits."""

    assignment: Assignment
    seed: int
    data_dir: Path
    isolation: Isolation
    limits: Limits
    work_root: Path
    # notebooks: "definitions" (fast), "full" (a kernel runs every cell), or "auto":
    # definitions first, and a full run when they do not define what is graded
    notebook_mode: str = "auto"


@dataclass(frozen=True, slots=True)
class BatchContext(RunSettings):
    """What every submission of one batch shares: how its workers run, and what judging
    needs (the hidden labels and the reference's values, known before it is built)."""

    secrets: Mapping[str, np.ndarray] = field(default_factory=dict)
    expected: Mapping[str, Observed] = field(default_factory=dict)
    checks: tuple[Check, ...] | None = None  # a subset (self-check); None means all
    # issue 13: the reference's display values (public checks) and the known mistakes
    displays: Mapping[str, Observed] = field(default_factory=dict)
    mistakes: KnownMistakes = field(default_factory=KnownMistakes)
    data_seed: int = 0  # what `prepare_data` drew the data with: a remote worker draws it again

    @property
    def selected(self) -> tuple[Check, ...]:
        return self.checks if self.checks is not None else self.assignment.checks

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.selected)
