"""The pictures of one check (loss curve, accuracy per epoch, first-layer weights) and the
class page's two figures, drawn by plots.py from numbers a result holds.

Only numbers reach here: what a probe sent under `display.` (grader.judge.display), never
a picture the submission drew. A hidden check's display holds the student's own run only.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from grader.judge.display import REFERENCE, weights_array
from grader.outputs.plots import accuracy_plot, check_error_plot, loss_plot, score_histogram, weight_grid
from grader.outputs.text import clean_text
from grader.results import CheckResult, SubmissionResult

__all__ = ["check_figures", "class_figures"]


def check_figures(check: CheckResult) -> tuple[Markup, ...]:
    """The figures of one check's display values, in the handout's order: loss, accuracy, weights."""
    display = check.display
    if display is None:
        return ()
    series = dict(display.series)
    name = clean_text(check.name)
    figures = []
    if "loss" in series:
        reference = series.get(REFERENCE + "loss") if check.public else None
        figures.append(loss_plot(series["loss"], reference, title=f"{name}: training loss"))
    if "train_acc" in series and "val_acc" in series:
        ref_train = series.get(REFERENCE + "train_acc") if check.public else None
        ref_val = series.get(REFERENCE + "val_acc") if check.public else None
        figures.append(
            accuracy_plot(
                series["train_acc"], series["val_acc"], ref_train, ref_val, title=f"{name}: classification accuracy"
            )
        )
    if display.weights is not None:
        try:
            figures.append(weight_grid(weights_array(display.weights), title=f"{name}: first-layer weights (W1)"))
        except ValueError:
            pass  # a damaged stored picture is left out, never a broken page
    return tuple(figures)


def class_figures(results: Sequence[SubmissionResult]) -> tuple[Markup, ...]:
    """The class page's figures: the score histogram and each check's error against its tolerance."""
    graded = [r for r in results if r.status == "graded"]
    figures = [score_histogram([r.percent for r in results], title="Scores of the class")]
    errors: dict[str, list[float]] = {}
    tolerances: dict[str, float] = {}
    for result in graded:
        for check in result.checks:
            if check.error is not None and check.tolerance is not None:
                errors.setdefault(clean_text(check.name), []).append(check.error)
                tolerances[clean_text(check.name)] = check.tolerance
    if errors:
        figures.append(
            check_error_plot(errors, tolerances, title="Error of each check across the class (the line: its tolerance)")
        )
    return tuple(figures)
