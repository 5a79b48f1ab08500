"""The likely mistake behind a failed check, named in the student's words.

An assignment declares its known mistakes in `reference/<name>/mistakes/<id>.py`, one file
each: a docstring naming it in a few words, and plain assignments (read with `ast`, never
imported):

    TITLE = "the regularisation has no 0.5: reg * sum(W**2)"      # what the student did
    HANDOUT = "loss: ... + 0.5 * reg * (sum W1^2 + sum W2^2)"      # the handout line it concerns
    HOW_TO_CHECK = "with reg=0.1 the toy loss must be 1.30378789"  # how to see it yourself
    CHECKS = ("toy_loss", "hidden_loss")                           # where it shows
    PATCHES = (("reg_loss = 0.5 * reg *", "reg_loss = reg *"),)    # the reference made wrong

A mistake with `PATCHES` is a *variant*: the reference with each `old` replaced by `new`
(once, in the entry file; in a notebook, in the code cell holding it). The grader observes
every variant through the same probes and sandbox as the reference (cached like the
expected values, grader.course.reference) and a failed check whose observation agrees with
a variant's, within the check's own tolerance, is diagnosed as that mistake. A mistake
with `WRONG = ("W1", "b1")` instead is a *pattern*: it names what it usually means when
exactly those parameters' gradients are wrong, and is said only when no variant matched.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import Check
from grader.errors import AssignmentError
from grader.judge.expectations import Computed, GradientsAgree, MatchesReference, Observed, rel_error
from grader.results import Diagnosis
from grader.sandbox.wire import Invalid

__all__ = ["MISTAKES_DIR", "KnownMistakes", "Mistake", "diagnose", "load_mistakes", "patched_entry", "variant_checks"]

MISTAKES_DIR = "mistakes"
_TEXT_FIELDS = ("TITLE", "HANDOUT", "HOW_TO_CHECK")
# What the grader computes from (trained parameters) carries no tolerance of its own: a
# variant's training and the student's agree when every number does, to rounding.
COMPUTED_AGREEMENT = 1e-9


@dataclass(frozen=True, slots=True)
class Mistake:
    """One known mistake: a variant of the reference (`patches`) or a gradient pattern (`wrong`)."""

    id: str
    name: str  # a few words (the file's docstring): how the class page lists it
    title: str
    handout: str
    how_to_check: str
    checks: tuple[str, ...] = ()
    patches: tuple[tuple[str, str], ...] = ()
    wrong: frozenset[str] = frozenset()

    @property
    def is_variant(self) -> bool:
        return bool(self.patches)

    def diagnosis(self, right: tuple[str, ...] = (), wrong: tuple[str, ...] = ()) -> Diagnosis:
        return Diagnosis(self.id, self.title, self.handout, self.how_to_check, right, wrong, self.name)


@dataclass(frozen=True, slots=True)
class KnownMistakes:
    """An assignment's mistakes and what each variant's code returned: mistake id -> check -> arrays."""

    mistakes: tuple[Mistake, ...] = ()
    observations: Mapping[str, Mapping[str, Observed]] = field(default_factory=dict)


def load_mistakes(folder: Path) -> tuple[Mistake, ...]:
    """The mistakes declared in `folder/mistakes/`, in file-name order (none: empty)."""
    where = folder / MISTAKES_DIR
    if not where.is_dir():
        return ()
    return tuple(_mistake(path) for path in sorted(where.glob("*.py")) if not path.name.startswith("_"))


def _mistake(path: Path) -> Mistake:
    values: dict[str, Any] = {}
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                raise AssignmentError.in_file(
                    path, f"{node.targets[0].id} must be a plain value (strings and tuples)"
                ) from None
    missing = [name for name in _TEXT_FIELDS if not isinstance(values.get(name), str) or not values[name].strip()]
    if missing:
        raise AssignmentError.in_file(path, f"a mistake needs {', '.join(missing)} (a sentence each)")
    patches = tuple((str(old), str(new)) for old, new in values.get("PATCHES", ()))
    wrong = frozenset(str(p) for p in values.get("WRONG", ()))
    if bool(patches) == bool(wrong):
        raise AssignmentError.in_file(
            path, "a mistake has either PATCHES (a variant of the reference) or WRONG (a gradient pattern)"
        )
    checks = tuple(str(c) for c in values.get("CHECKS", ()))
    name = (ast.get_docstring(tree) or path.stem.replace("_", " ")).split("\n")[0].rstrip(".")
    return Mistake(
        path.stem,
        name,
        values["TITLE"].strip(),
        values["HANDOUT"].strip(),
        values["HOW_TO_CHECK"].strip(),
        checks,
        patches,
        wrong,
    )


def patched_entry(mistake: Mistake, entry: Path) -> str:
    """The text of `entry` (a module or a notebook) with the mistake's patches applied.

    Raises `AssignmentError` when a patch's `old` text is not in the reference exactly
    once: a variant must stay in step with the reference it is made from.
    """
    text = entry.read_text(encoding="utf-8")
    if entry.suffix != ".ipynb":
        return _patched(mistake, entry, text)
    notebook = json.loads(text)
    cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    sources = ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", "")) for c in cells]
    joined = _patched(mistake, entry, "\x00".join(sources))  # NUL never occurs in a cell: patches stay inside one
    for cell, source in zip(cells, joined.split("\x00")):
        cell["source"] = source
    return json.dumps(notebook, indent=1, ensure_ascii=False)


def _patched(mistake: Mistake, entry: Path, text: str) -> str:
    for old, new in mistake.patches:
        if text.count(old) != 1:
            raise AssignmentError.in_file(
                entry,
                f"mistake {mistake.id!r}: {old!r} occurs {text.count(old)} times in the reference (needs exactly once)",
            )
        text = text.replace(old, new)
    return text


def variant_checks(mistake: Mistake, checks: tuple[Check, ...]) -> tuple[Check, ...]:
    """The checks a variant is observed on: those it names (default: every check that
    compares with the reference), and only kinds whose observations can be matched."""
    wanted = set(mistake.checks) if mistake.checks else {c.name for c in checks if c.expect.needs_reference}
    return tuple(
        c for c in checks if c.name in wanted and isinstance(c.expect, (MatchesReference, GradientsAgree, Computed))
    )


def diagnose(
    check: Check,
    observed: Observed,
    reference: Observed | None,
    known: KnownMistakes,
    secrets: Mapping[str, np.ndarray],
) -> Diagnosis | None:
    """The likely mistake behind a failed `check`, or None when nothing can be said.

    A variant that fails the check too and whose observation agrees with the student's
    within the check's tolerance names the mistake; failing that, which parameters are
    right and which wrong (and a pattern's reading of them, when one is declared).
    """
    right, wrong = _parameters(check, observed, reference, secrets)
    for mistake in known.mistakes:
        variant = known.observations.get(mistake.id, {}).get(check.name)
        if variant is None or mistake.wrong:
            continue
        if check.expect.judge(variant, reference, secrets, check.public).passed:
            continue  # this variant does not show in this check
        if _agrees(check, observed, variant):
            return mistake.diagnosis(right, wrong)
    # a gradient check labels parameter W1's result "dW1"; a pattern names the parameter
    names = frozenset(p.removeprefix("d") if isinstance(check.expect, GradientsAgree) else p for p in wrong)
    for mistake in known.mistakes:
        if mistake.wrong and mistake.wrong == names and (not mistake.checks or check.name in mistake.checks):
            return mistake.diagnosis(right, wrong)
    return Diagnosis(right=right, wrong=wrong) if wrong and right else None


def _parameters(
    check: Check, observed: Observed, reference: Observed | None, secrets: Mapping[str, np.ndarray]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(right, wrong): each parameter of a gradient check, or key of a per-key match, judged alone."""
    expect = check.expect
    if reference is None:
        return (), ()
    if isinstance(expect, GradientsAgree):
        params = sorted(k.removeprefix("analytic.") for k in reference if k.startswith("analytic."))
        parts = {f"d{p}": ({f"analytic.{p}": reference[f"analytic.{p}"]}) for p in params}
    elif isinstance(expect, MatchesReference) and expect.partial and len(reference) > 1:
        parts = {k: {k: reference[k]} for k in sorted(reference)}
    else:
        return (), ()
    right: list[str] = []
    wrong: list[str] = []
    for label, part in parts.items():
        (right if expect.judge(observed, part, secrets, check.public).passed else wrong).append(label)
    return tuple(right), tuple(wrong)


def _agrees(check: Check, observed: Observed, variant: Observed) -> bool:
    """Whether the student's observation equals the variant's within the check's tolerance
    (NaN and inf where the variant has them count as agreeing: an overflowing softmax)."""
    expect = check.expect
    if isinstance(expect, GradientsAgree):
        keys = [k for k in variant if k.startswith("analytic.")]
        return bool(keys) and all(_close(observed.get(k), variant[k], "rel", expect.rel_error) for k in keys)
    if isinstance(expect, MatchesReference):
        measure, limit = _measure(expect)
        return bool(variant) and all(_close(observed.get(k), variant[k], measure, limit) for k in variant)
    if isinstance(expect, Computed):
        return bool(variant) and all(_close(observed.get(k), variant[k], "rel", COMPUTED_AGREEMENT) for k in variant)
    return False


def _measure(expect: MatchesReference) -> tuple[str, float]:
    if expect.exact:
        return "exact", 0.0
    for name in ("sum_abs", "max_abs", "rel"):
        value = getattr(expect, name)
        if value is not None:
            return name, float(value)
    raise AssertionError("MatchesReference has a measure")


def _close(got: np.ndarray | Invalid | None, want: np.ndarray | Invalid, measure: str, limit: float) -> bool:
    if got is None or isinstance(got, Invalid) or isinstance(want, Invalid) or got.shape != want.shape:
        return False
    if got.dtype.kind not in "fiub" or want.dtype.kind not in "fiub":
        return False
    if measure == "exact":
        return bool(np.array_equal(got, want))
    a, b = got.astype(np.float64), want.astype(np.float64)
    # An overflow gives inf or NaN depending on how the formula is written: where one is
    # not finite the other must not be either, whichever of the two it is.
    finite = np.isfinite(a)
    if not np.array_equal(finite, np.isfinite(b)):
        return False
    a, b = a[finite], b[finite]
    if not a.size:
        return True
    if measure == "rel":
        return float(rel_error(a, b).max()) <= limit
    errors = np.abs(a - b)
    return float(errors.sum() if measure == "sum_abs" else errors.max()) <= limit
