"""Figures for the reports, drawn on the trusted side from numbers (never by student code).

Every figure is self-contained markup for a report page: an inline SVG (hand-written: a few
KB, no import cost; matplotlib's SVG backend costs ~0.5 s to import and ~11 KB per plot)
or, for weight images, an embedded PNG encoded here with zlib. Each has a ``<title>`` and a
``<desc>`` (or alt text) that says in words what the picture shows, scales to its column
(``viewBox``, width 100%), and loads nothing from outside the page.

Inputs are validated before drawing: a series that is not a list of numbers, is empty, or
holds only NaN/inf draws a note in the figure's caption instead of raising; long histories
are reduced to at most `MAX_POINTS` points (each bucket keeps its minimum and maximum, so a
spike stays visible). Names that could come from a submission are escaped.
"""

from __future__ import annotations

import base64
import html
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from markupsafe import Markup
from numpy.typing import ArrayLike

from grader.outputs._png import tile_grid
from grader.outputs._svg import Frame, coord, el, num, strip_plot, svg_document, text

__all__ = [
    "MAX_POINTS",
    "PLOT_CSS",
    "Series",
    "accuracy_plot",
    "check_error_plot",
    "line_plot",
    "loss_plot",
    "score_histogram",
    "weight_grid",
]

MAX_POINTS = 500  # points drawn per series; longer histories are reduced
_MAX_VALUES = 10_000_000  # values accepted per series before a history is refused
_MAX_CHECKS, _MAX_DOTS = 30, 1000  # rows and dots per row of the class page's error plot
_MARKER_LIMIT = 40  # series this short get a dot on every point (one epoch is one dot)
_YOURS, _REFERENCE = "#0969da", "#bc4c00"  # blue and orange stay distinct for colour-blind readers
_DASHED = "7 4"

# Styles the page can include once; the figures also carry their own sizes, so they read without it.
PLOT_CSS = """
figure.plot { margin: 16px 0; }
figure.plot svg { display: block; width: 100%; max-width: 760px; height: auto; }
figure.plot img.weights { display: block; max-width: 100%; height: auto; image-rendering: pixelated;
                          border: 1px solid #d1d9e0; }
figure.plot figcaption { font-size: .85rem; color: #59636e; margin-top: 4px; }
figure.plot .plot-note { color: #9a6700; }
"""


@dataclass(frozen=True, slots=True)
class Series:
    """One line: `values` in order, drawn from x = `first_x`; `name` goes into the legend."""

    name: str
    values: ArrayLike
    color: str = _YOURS
    dashed: bool = False
    first_x: int = 0


@dataclass(frozen=True, slots=True)
class _Line:
    name: str
    color: str
    dashed: bool
    points: list[list[tuple[float, float]]]  # runs of (x, y) broken where values are NaN/inf
    summary: str


def loss_plot(
    yours: ArrayLike, reference: ArrayLike | None = None, *, title: str = "Training loss", log_scale: bool | None = None
) -> Markup:
    """The submission's loss history beside the reference's on the same inputs.

    `log_scale` None picks a log axis when the values are positive and span over two decades.
    """
    series = [Series("your code", yours)]
    if reference is not None:
        series.append(Series("reference", reference, color=_REFERENCE, dashed=True))
    return line_plot(series, title=title, x_label="iteration", y_label="loss", log_scale=log_scale)


def accuracy_plot(
    train: ArrayLike,
    val: ArrayLike,
    reference_train: ArrayLike | None = None,
    reference_val: ArrayLike | None = None,
    *,
    title: str = "Classification accuracy",
) -> Markup:
    """Train and validation accuracy per epoch (the handout's plot), yours beside the reference's.

    Colour tells whose run it is, the dash tells train (solid) from validation (dashed).
    """
    series = [Series("your train", train, first_x=1), Series("your validation", val, dashed=True, first_x=1)]
    if reference_train is not None:
        series.append(Series("reference train", reference_train, color=_REFERENCE, first_x=1))
    if reference_val is not None:
        series.append(Series("reference validation", reference_val, color=_REFERENCE, dashed=True, first_x=1))
    return line_plot(series, title=title, x_label="epoch", y_label="accuracy", log_scale=False)


def line_plot(
    series: Sequence[Series], *, title: str, x_label: str, y_label: str, log_scale: bool | None = None
) -> Markup:
    """Any number of series on shared axes, with a legend; bad series become caption notes."""
    notes: list[str] = []
    lines = []
    for s in series:
        line = _line(s, notes)
        if line is not None:
            lines.append(line)
    ys = [y for line in lines for run in line.points for _, y in run]
    if not ys:
        return _figure("", title, notes or ["nothing to draw"])
    log = _choose_log(ys, log_scale, notes)
    xs = [x for line in lines for run in line.points for x, _ in run]
    legend, legend_rows = _legend(lines)
    frame = Frame.fit(min(xs), max(xs), min(ys), max(ys), log_y=log)
    frame = replace(frame, top=frame.top + 20 * (legend_rows - 1))  # room for a legend that wrapped
    body = frame.axes(x_label, y_label, integer_x=True) + legend + "".join(_draw_line(line, frame) for line in lines)
    desc = "; ".join(line.summary for line in lines) + (f". Scale: {'logarithmic' if log else 'linear'}.")
    return _figure(svg_document(body, frame, title, desc), title, notes)


def score_histogram(percents: ArrayLike, *, title: str = "Scores", bins: int = 10) -> Markup:
    """How many submissions scored in each band of `100 / bins` percent (100% in the last band)."""
    notes: list[str] = []
    values = _finite(percents, "scores", notes)
    if values is None or not values.size:
        return _figure("", title, notes or ["no scores yet"])
    edges = np.linspace(0.0, 100.0, bins + 1)
    counts, _ = np.histogram(np.clip(values, 0.0, 100.0), bins=edges)
    # Bars stand on zero, so the y axis starts there; headroom above for the count labels.
    frame = Frame(0.0, 100.0, 0.0, float(max(counts.max(), 1)) * 1.08, log_y=False)
    parts = [frame.axes("score (percent)", "submissions", integer_x=True, integer_y=True)]
    for lo, hi, n in zip(edges[:-1], edges[1:], counts):
        x0, x1 = frame.x(float(lo)) + 2, frame.x(float(hi)) - 2
        y = frame.y(float(n))
        tip = f"<title>{num(lo)}-{num(hi)}%: {n}</title>"
        parts.append(el("rect", tip, x=x0, y=y, width=x1 - x0, height=frame.y(0.0) - y, fill=_YOURS))
        if n:
            parts.append(el("text", str(n), x=(x0 + x1) / 2, y=y - 4, text_anchor="middle", font_size=12))
    desc = ", ".join(f"{num(lo)} to {num(hi)}%: {n}" for lo, hi, n in zip(edges[:-1], edges[1:], counts))
    return _figure(svg_document("".join(parts), frame, title, f"{values.size} scores. {desc}."), title, notes)


def check_error_plot(
    errors: Mapping[str, ArrayLike],
    tolerances: Mapping[str, float],
    *,
    title: str = "Error of each check across the class",
    measure: str = "error",
) -> Markup:
    """One row per check: each submission's error as a dot on a log scale, the tolerance as a line.

    Dots left of the line passed. An error of exactly 0 is drawn at the left edge and counted
    in the description. At most `_MAX_CHECKS` checks and `_MAX_DOTS` dots per check are drawn
    (1 in k submissions beyond that, evenly, so the spread stays true).
    """
    notes: list[str] = []
    rows = []
    for name, values in list(errors.items())[:_MAX_CHECKS]:
        finite = _finite(values, f"check {name}", notes)
        if finite is None:
            continue
        if finite.size > _MAX_DOTS:
            step = math.ceil(finite.size / _MAX_DOTS)
            notes.append(f"check {name}: 1 in {step} of {finite.size} submissions drawn")
            finite = finite[::step]
        rows.append((name, np.abs(finite), _tolerance(tolerances.get(name))))
    if len(errors) > _MAX_CHECKS:
        notes.append(f"{len(errors) - _MAX_CHECKS} more checks are not drawn")
    if not rows:
        return _figure("", title, notes or ["no errors recorded"])
    body, frame, desc = strip_plot(rows, measure=text(measure, 40))
    return _figure(svg_document(body, frame, title, desc), title, notes)


def weight_grid(weights: ArrayLike, *, title: str = "First-layer weights", max_tiles: int = 400) -> Markup:
    """W1 of shape (D, H) as H small images (D = 28*28, 8*8, or 32*32*3 in colour), each scaled
    to its own range (the handout's `show_net_weights`), as an embedded PNG with alt text."""
    notes: list[str] = []
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return _figure("", title, ["the weights are not an array of numbers"])
    png, shown, side, colour = tile_grid(w, max_tiles, notes)
    if png is None:
        return _figure("", title, notes)
    kind = "colour" if colour else "greyscale"
    alt = f"{shown} hidden units' incoming weights, each drawn as a {side} by {side} {kind} image"
    uri = base64.b64encode(png).decode("ascii")
    img = (
        f'<img class="weights" src="data:image/png;base64,{uri}" alt="{text(alt, 200)}" title="{text(title)}" '
        f'width="{_display_width(png)}" style="image-rendering: pixelated; max-width: 100%; height: auto;">'
    )
    return _figure(img, title, notes)


def _display_width(png: bytes) -> int:
    # Upscale small grids (8x8 digits make a 70-px PNG) by a whole factor, up to about 480 px.
    (width,) = struct.unpack(">I", png[16:20])
    return int(width * max(1, min(8, 480 // max(width, 1))))


def _figure(content: str, title: str, notes: Sequence[str]) -> Markup:
    caption = text(title, 120)
    if notes:
        caption += "".join(f' <span class="plot-note">({text(n, 200)})</span>' for n in notes)
    return Markup(f'<figure class="plot">{content}<figcaption>{caption}</figcaption></figure>')


def _finite(values: ArrayLike, what: str, notes: list[str]) -> np.ndarray | None:
    """The finite values of a flat numeric input, or None (with a note) when there are none."""
    if isinstance(values, Sequence) and len(values) > _MAX_VALUES:
        notes.append(f"{what}: too many values to draw")
        return None
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError, OverflowError):
        notes.append(f"{what}: not a list of numbers")
        return None
    bad = int((~np.isfinite(array)).sum())
    if bad:
        notes.append(f"{what}: {bad} of {array.size} values are NaN or infinite and are not drawn")
    return array[np.isfinite(array)]


def _line(series: Series, notes: list[str]) -> _Line | None:
    name = text(series.name, 60)
    if isinstance(series.values, Sequence) and len(series.values) > _MAX_VALUES:
        notes.append(f"{series.name}: more than {_MAX_VALUES:,} values; not drawn")
        return None
    try:
        y = np.asarray(series.values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        notes.append(f"{series.name}: not a list of numbers; not drawn")
        return None
    if y.ndim != 1 or y.size > _MAX_VALUES:
        notes.append(f"{series.name}: expected one value per step, got shape {y.shape}; not drawn")
        return None
    finite = np.isfinite(y)
    if not finite.any():
        why = f"all {y.size} values are NaN or infinite" if y.size else "no values recorded"
        notes.append(f"{series.name}: {why}")
        return None
    if not finite.all():
        first = int(np.argmin(finite)) + series.first_x
        bad = int((~finite).sum())
        notes.append(f"{series.name}: {bad} of {y.size} values are NaN or infinite (first at {first}), drawn as gaps")
    runs = _reduce(y, series.first_x)
    good = y[finite]
    summary = (
        f"{name}: {y.size} values from {num(float(good[0]))} to {num(float(good[-1]))}"
        f" (lowest {num(float(good.min()))}, highest {num(float(good.max()))})"
    )
    return _Line(name, series.color, series.dashed, runs, summary)


def _reduce(y: np.ndarray, first_x: int) -> list[list[tuple[float, float]]]:
    """At most MAX_POINTS (x, y) points in runs; a bucket keeps its min and max, in order."""
    n = y.size
    buckets = np.array_split(np.arange(n), MAX_POINTS // 2) if n > MAX_POINTS else [np.array([i]) for i in range(n)]
    runs: list[list[tuple[float, float]]] = [[]]
    for idx in buckets:
        vals = y[idx]
        keep = np.isfinite(vals)
        if not keep.any():
            if runs[-1]:
                runs.append([])  # a gap: NaN/inf values break the line instead of being bridged
            continue
        good = idx[keep]
        picks = sorted({int(good[np.argmin(y[good])]), int(good[np.argmax(y[good])])})
        runs[-1].extend((float(i + first_x), float(y[i])) for i in picks)
    return [run for run in runs if run]


def _choose_log(ys: Sequence[float], requested: bool | None, notes: list[str]) -> bool:
    lo, hi = min(ys), max(ys)
    if requested is False:
        return False
    if lo <= 0:
        if requested:
            notes.append("drawn on a linear scale: some values are zero or negative")
        return False
    return bool(requested) or hi / lo > 100


def _legend(lines: Sequence[_Line]) -> tuple[str, int]:
    """Legend items left to right, wrapping onto a new row at the right edge; (markup, rows)."""
    parts = []
    x, y, rows = 72.0, 18.0, 1
    for line in lines:
        width = 44 + 8.0 * len(html.unescape(line.name))  # 13-px text: at most about 8 px a character
        if x + width > 700 and x > 72:
            x, y, rows = 72.0, y + 20, rows + 1
        swatch = el("line", x1=x, y1=y, x2=x + 26, y2=y, stroke=line.color, stroke_width="2.5", **_dash(line))
        label = el("text", line.name, x=x + 32, y=y + 4, font_size=13)
        parts.append(f'<g class="legend-item">{swatch}{label}</g>')
        x += width
    return "".join(parts), rows


def _draw_line(line: _Line, frame: Frame) -> str:
    out = [f'<g class="series" data-name="{line.name}">']
    for run in line.points:
        pts = " ".join(f"{coord(frame.x(x))},{coord(frame.y(y))}" for x, y in run)
        style = {"stroke": line.color, **_dash(line)}
        out.append(el("polyline", points=pts, fill="none", stroke_width=2, stroke_linejoin="round", **style))
    if sum(len(run) for run in line.points) <= _MARKER_LIMIT:
        out += [el("circle", cx=frame.x(x), cy=frame.y(y), r=3, fill=line.color) for run in line.points for x, y in run]
    return "".join(out) + "</g>"


def _dash(line: _Line) -> dict[str, float | str]:
    return {"stroke_dasharray": _DASHED} if line.dashed else {}


def _tolerance(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) and value > 0 else None
