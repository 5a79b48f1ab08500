"""The small SVG toolkit behind plots.py: a plot frame (data -> pixels), axes with round
ticks, the accessible <svg> wrapper, escaping, and the per-check strip plot."""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

_SURROGATES = re.compile("[\ud800-\udfff]")
# Characters XML 1.0 forbids, C1 controls, and bidi overrides that could reorder a label.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_HUGE = 1e300  # values beyond this are clamped so that spans and pixels stay finite
_INK, _MUTED, _GRID = "#1f2328", "#59636e", "#d8dee4"
_PASS, _FAIL = "#1a7f37", "#cf222e"


def text(value: object, limit: int = 80) -> str:
    """Untrusted text, escaped for XML/HTML, without characters XML forbids, at most `limit` long."""
    s = _NOT_XML.sub("", _SURROGATES.sub("\ufffd", str(value)))
    return html.escape(s if len(s) <= limit else s[: limit - 1] + "…", quote=True)


def coord(v: float) -> str:
    """A pixel coordinate: one decimal is plenty and keeps the SVG small."""
    return f"{v:.1f}"


def num(v: float) -> str:
    """A number for people: 4 significant figures (0.0314, 1.2e-08, 2300)."""
    return f"{v:.4g}"


def tick_labels(values: list[float]) -> list[str]:
    """Labels for ticks: 4 significant figures, more when a narrow range would otherwise
    print the same label twice (a loss between 2.3025 and 2.3027)."""
    for digits in range(4, 13):
        labels = [f"{v:.{digits}g}" for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return labels


@dataclass(frozen=True, slots=True)
class Frame:
    """Maps data to pixels in a `width` x `height` viewBox; y may be logarithmic."""

    x_lo: float
    x_hi: float
    y_lo: float  # log10 of the value when log_y
    y_hi: float
    log_y: bool
    left: float = 72.0
    right: float = 700.0
    top: float = 44.0
    bottom: float = 316.0
    width: int = 720
    height: int = 370

    @classmethod
    def fit(cls, x_lo: float, x_hi: float, y_lo: float, y_hi: float, *, log_y: bool, pad_x: bool = True) -> Frame:
        """A frame holding the given ranges, padded so that no point sits on the border."""
        y_lo, y_hi = max(y_lo, -_HUGE), min(y_hi, _HUGE)
        if log_y:
            y_lo, y_hi = math.log10(y_lo), math.log10(y_hi)
        span = y_hi - y_lo
        pad = 0.06 * span if span > 0 else (0.5 if log_y else max(abs(y_lo) * 0.1, 1.0))
        if x_hi <= x_lo:
            x_lo, x_hi = x_lo - 1, x_hi + 1
        elif pad_x:
            x_lo, x_hi = x_lo - 0.02 * (x_hi - x_lo), x_hi + 0.02 * (x_hi - x_lo)
        return cls(x_lo, x_hi, y_lo - pad, y_hi + pad, log_y)

    def x(self, v: float) -> float:
        return self.left + (v - self.x_lo) / (self.x_hi - self.x_lo) * (self.right - self.left)

    def y(self, v: float) -> float:
        v = min(max(v, -_HUGE), _HUGE)
        if self.log_y:
            v = math.log10(v) if v > 0 else self.y_lo
        return self.bottom - (v - self.y_lo) / (self.y_hi - self.y_lo) * (self.bottom - self.top)

    def axes(self, x_label: str, y_label: str, *, integer_x: bool = False, integer_y: bool = False) -> str:
        """Grid lines, tick labels and axis titles (the labels are escaped here)."""
        parts = [self.border()]
        x_ticks = list(nice_ticks(self.x_lo, self.x_hi, integer=integer_x))
        for v, label in zip(x_ticks, tick_labels(x_ticks)):
            px = self.x(v)
            parts.append(el("line", x1=px, y1=self.bottom, x2=px, y2=self.bottom + 5, stroke=_MUTED))
            parts.append(el("text", label, x=px, y=self.bottom + 20, text_anchor="middle", font_size=12, fill=_MUTED))
        y_ticks = list(
            log_ticks(self.y_lo, self.y_hi) if self.log_y else nice_ticks(self.y_lo, self.y_hi, integer=integer_y)
        )
        for v, label in zip(y_ticks, tick_labels(y_ticks)):
            py = self.y(v)
            parts.append(el("line", x1=self.left, y1=py, x2=self.right, y2=py, stroke=_GRID))
            parts.append(el("text", label, x=self.left - 6, y=py + 4, text_anchor="end", font_size=12, fill=_MUTED))
        mid_x, mid_y = (self.left + self.right) / 2, (self.top + self.bottom) / 2
        below = self.bottom + 42
        parts.append(el("text", text(x_label), x=mid_x, y=below, text_anchor="middle", font_size=13, fill=_INK))
        rotate = f"translate(16 {coord(mid_y)}) rotate(-90)"
        parts.append(el("text", text(y_label), transform=rotate, text_anchor="middle", font_size=13, fill=_INK))
        return "".join(parts)

    def border(self) -> str:
        """The plot area's outline."""
        width, height = self.right - self.left, self.bottom - self.top
        return el("rect", x=self.left, y=self.top, width=width, height=height, fill="none", stroke=_GRID)


def el(tag: str, body: str = "", /, **attributes: float | str) -> str:
    """One SVG element. `body` and string attribute values must already be escaped (or ours);
    floats are pixel coordinates; ``text_anchor`` is written ``text-anchor``, ``class_`` ``class``."""
    attrs = " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{coord(v) if isinstance(v, float) else v}"'
        for name, v in attributes.items()
    )
    return f"<{tag} {attrs}>{body}</{tag}>" if body else f"<{tag} {attrs}/>"


def nice_ticks(lo: float, hi: float, *, integer: bool = False, count: int = 6) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) between lo and hi."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo] if math.isfinite(lo) else []
    raw = span / count
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(k * mag for k in (1, 2, 5, 10) if k * mag >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)][: count * 2 + 1]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten inside [10**lo, 10**hi] (every k-th if many); round values if under two."""
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    if len(decades) < 2:
        return [v for v in nice_ticks(10.0**lo, 10.0**hi) if v > 0]
    if len(decades) <= 3:  # few decades: 2 and 5 between them help read the values
        ticks = [m * 10.0**d for d in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
        return [t for t in ticks if lo <= math.log10(t) <= hi]
    stride = max(1, math.ceil(len(decades) / 8))
    return [10.0**d for d in decades[::stride]]


def svg_document(body: str, frame: Frame, title: str, desc: str) -> str:
    """The <svg> element: scales to its column, labelled for screen readers by <title> and
    <desc>. `title` is escaped here; `desc` must already be escaped (it quotes escaped names)."""
    ident = "fig-" + hashlib.sha256(f"{title}\x00{desc}\x00{body}".encode("utf-8", "replace")).hexdigest()[:10]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}" width="100%" '
        f'style="max-width: 760px; height: auto; display: block;" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, Arial, sans-serif">'
        f'<title id="{ident}-t">{text(title, 120)}</title><desc id="{ident}-d">{desc}</desc>{body}</svg>'
    )


def strip_plot(rows: Sequence[tuple[str, np.ndarray, float | None]], measure: str) -> tuple[str, Frame, str]:
    """Rows of (check name, absolute errors, tolerance or None): body, frame, desc.

    Errors go on a log10 axis; exact zeros sit at the left edge. Dots within the tolerance
    are green, over it red; the tolerance is a dashed line across its row.
    """
    positive = [float(v) for _, errs, _ in rows for v in errs if v > 0] + [t for _, _, t in rows if t]
    lo = math.floor(math.log10(min(positive))) if positive else -16
    hi = math.ceil(math.log10(max(positive))) if positive else 0
    hi = max(hi, lo + 1)
    row_h = 30.0
    frame = replace(Frame(float(lo), float(hi), 0.0, 1.0, False, left=200.0), bottom=44.0 + row_h * len(rows))
    frame = replace(frame, height=int(frame.bottom + 56))
    parts = [frame.border()]
    for d in range(lo, hi + 1, max(1, math.ceil((hi - lo) / 10))):
        px = frame.x(d)
        parts.append(el("line", x1=px, y1=frame.top, x2=px, y2=frame.bottom, stroke=_GRID))
        parts.append(el("text", f"1e{d}", x=px, y=frame.bottom + 18, text_anchor="middle", font_size=12, fill=_MUTED))
    title = f"{measure} (log scale; dots right of the dashed line missed the tolerance)"
    mid_x = (frame.left + frame.right) / 2
    parts.append(el("text", title, x=mid_x, y=frame.bottom + 42, text_anchor="middle", font_size=13))
    for i, (name, errs, tol) in enumerate(rows):
        parts.append(_strip_row(frame, frame.top + i * row_h, row_h, name, errs, tol))
    return "".join(parts), frame, "; ".join(_row_summary(text(name), errs, tol) for name, errs, tol in rows) + "."


def _strip_row(frame: Frame, top: float, row_h: float, name: str, errs: np.ndarray, tol: float | None) -> str:
    mid = top + row_h / 2
    # 24 characters fit the 200-px margin; the full name shows on hover.
    label = f"<title>{text(name)}</title>{text(name, 24)}"
    parts = [el("text", label, x=frame.left - 8, y=mid + 4, text_anchor="end", font_size=12)]
    if tol is not None:
        tx = frame.x(math.log10(tol))
        tip = f"<title>tolerance {num(tol)}</title>"
        line: dict[str, float | str] = {"x1": tx, "y1": top + 3, "x2": tx, "y2": top + row_h - 3}
        parts.append(el("line", tip, class_="tolerance", stroke=_FAIL, stroke_width=2, stroke_dasharray="4 3", **line))
    for j, v in enumerate(errs):
        x = frame.x(math.log10(v)) if v > 0 else frame.left + 2
        y = mid + (((j * 0.6180339887) % 1.0) - 0.5) * (row_h - 10)  # deterministic jitter
        colour = _FAIL if tol is not None and v > tol else _PASS
        parts.append(el("circle", class_="dot", cx=x, cy=y, r=3, fill=colour, fill_opacity="0.7"))
    return "".join(parts)


def _row_summary(name: str, errs: np.ndarray, tol: float | None) -> str:
    words = f"{name}: {errs.size} submissions"
    if tol is not None:
        words += f", {int((errs <= tol).sum())} within the tolerance {num(tol)}"
    zeros = int((errs == 0).sum())
    if zeros:
        words += f", {zeros} exactly 0"
    return words + (f", largest {num(float(errs.max()))}" if errs.size else "")
