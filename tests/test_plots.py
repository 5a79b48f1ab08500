"""Report figures drawn from numbers: valid, labelled, bounded, and safe on hostile input."""

from __future__ import annotations

import base64
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from typing import Any

import numpy as np
import pytest

from grader.outputs.plots import (
    MAX_POINTS,
    Series,
    accuracy_plot,
    check_error_plot,
    line_plot,
    loss_plot,
    score_histogram,
    weight_grid,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(figure: str) -> ET.Element:
    """The <svg> inside a figure, parsed as XML (raises if it is not well-formed)."""
    root = ET.fromstring(str(figure))
    assert root.tag == "figure"
    svg = root.find(f"{SVG}svg")
    assert svg is not None, figure[:300]
    return svg


def series_points(svg: ET.Element, name: str) -> list[tuple[float, float]]:
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("data-name") == name)
    points = [p for line in group.iter(f"{SVG}polyline") for p in line.get("points", "").split()]
    return [(float(p.split(",")[0]), float(p.split(",")[1])) for p in points]


def legend(svg: ET.Element) -> list[str]:
    return [t.text or "" for g in svg.iter(f"{SVG}g") if g.get("class") == "legend-item" for t in g.iter(f"{SVG}text")]


def caption(figure: str) -> str:
    return "".join(ET.fromstring(str(figure)).find("figcaption").itertext())  # type: ignore[union-attr]


def test_loss_plot_has_title_description_legend_and_every_point() -> None:
    yours, reference = np.linspace(2.3, 2.2, 37), np.linspace(2.3, 0.1, 37)
    svg = parse(loss_plot(yours, reference))
    assert svg.findtext(f"{SVG}title") == "Training loss"
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "your code: 37 values" in desc and "reference: 37 values" in desc
    assert legend(svg) == ["your code", "reference"]
    assert len(series_points(svg, "your code")) == 37
    assert svg.get("width") == "100%" and svg.get("viewBox", "").startswith("0 0 ")
    assert svg.get("role") == "img" and svg.get("aria-labelledby")


def test_a_long_history_is_reduced_but_keeps_its_spike() -> None:
    loss = np.full(100_000, 1.0)
    loss[54_321] = 50.0
    svg = parse(loss_plot(loss))
    points = series_points(svg, "your code")
    assert 2 <= len(points) <= MAX_POINTS
    top = min(y for _, y in points)  # pixels grow downwards: the spike is the highest point
    assert sum(1 for _, y in points if y == top) == 1 and top < min(y for _, y in points if y != top) - 100


def test_nan_and_inf_break_the_line_and_are_named_in_the_caption() -> None:
    loss = np.linspace(3, 1, 40)
    loss[10:13] = [np.nan, np.inf, -np.inf]
    figure = loss_plot(loss)
    svg = parse(figure)
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("data-name") == "your code")
    assert len(group.findall(f"{SVG}polyline")) == 2
    assert len(series_points(svg, "your code")) == 37
    assert "3 of 40 values are NaN or infinite (first at 10)" in caption(figure)
    assert "nan" not in str(figure).lower().replace("nan or", "")


@pytest.mark.parametrize("bad", [[], [float("nan")] * 3, "abc", [[1.0, 2.0], [3.0, 4.0]], None, [object()], ["1", {}]])
def test_a_bad_series_draws_a_note_instead_of_raising(bad: Any) -> None:
    figure = loss_plot(bad, [1.0, 0.5, 0.25])
    svg = parse(figure)
    assert legend(svg) == ["reference"]
    assert "your code:" in caption(figure)
    alone = loss_plot(bad)
    assert "<svg" not in alone and "your code:" in caption(alone)


def test_a_constant_series_and_a_single_value_are_drawn() -> None:
    svg = parse(loss_plot([2.0] * 20, [0.7]))
    assert len(series_points(svg, "your code")) == 20
    assert len(series_points(svg, "reference")) == 1
    assert len([c for c in svg.iter(f"{SVG}circle")]) == 21  # short series get a dot per value
    assert "nan" not in ET.tostring(svg, encoding="unicode").lower()


def test_huge_values_do_not_break_the_drawing() -> None:
    svg = parse(loss_plot([1e308, -1e308, 1.0, 5e307]))
    assert "inf" not in ET.tostring(svg, encoding="unicode").lower()


def test_log_scale_is_chosen_for_decades_and_refused_for_negative_values() -> None:
    assert "logarithmic" in (parse(loss_plot(np.geomspace(10, 1e-4, 50))).findtext(f"{SVG}desc") or "")
    figure = loss_plot([1.0, -1.0, 0.5], log_scale=True)
    assert "linear" in (parse(figure).findtext(f"{SVG}desc") or "")
    assert "drawn on a linear scale" in caption(figure)


def test_accuracy_plot_names_both_runs_and_both_splits() -> None:
    svg = parse(accuracy_plot([0.1, 0.3, 0.5], [0.1, 0.25, 0.4], [0.2, 0.5, 0.7], [0.2, 0.45, 0.6]))
    assert legend(svg) == ["your train", "your validation", "reference train", "reference validation"]
    epochs = [x for x, _ in series_points(svg, "your train")]
    assert len(epochs) == 3 and epochs == [x for x, _ in series_points(svg, "your validation")]


def test_names_from_a_submission_are_escaped() -> None:
    hostile = '<script>alert(1)</script>" onload="x\ud800\x1b'
    figure = line_plot([Series(hostile, [1.0, 2.0])], title=hostile, x_label=hostile, y_label="y")
    parse(figure)  # well-formed despite the name
    out = str(figure)
    assert "<script" not in out and 'onload="' not in out and "\x1b" not in out
    assert "\ufffd" in out
    out.encode("utf-8")


def test_weight_grid_draws_one_tile_per_hidden_unit_each_scaled_to_its_own_range() -> None:
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((64, 50))
    w1[:, 0] *= 1e-6  # tiny and huge weights still use the full grey range of their own tile
    w1[:, 1] *= 1e6
    figure = str(weight_grid(w1))
    src = re.search(r'src="data:image/png;base64,([^"]+)"', figure)
    assert src and re.search(r'alt="50 hidden units[^"]*8 by 8', figure)
    pixels = _decode_grey_png(base64.b64decode(src.group(1)))
    assert pixels.shape == (7 * 9 - 1, 8 * 9 - 1)  # 8 tiles a row, 7 rows, 1-pixel gaps
    for col in (0, 1):
        tile = pixels[0:8, col * 9 : col * 9 + 8]
        assert tile.min() == 0 and tile.max() == 255
    assert figure == str(weight_grid(w1.T))  # the (hidden, inputs) layout is read the same way


def test_weight_grid_notes_what_it_cannot_draw() -> None:
    assert "neither side" in str(weight_grid(np.zeros((5, 7))))
    assert "not an array of numbers" in str(weight_grid("weights"))
    many = str(weight_grid(np.ones((784, 500))))
    assert "first 400 of 500" in many and "data:image/png" in many
    assert "NaN or infinite" in str(weight_grid(np.full((16, 3), np.nan)))


def test_score_histogram_counts_full_marks_in_the_last_band() -> None:
    figure = score_histogram([100.0, 100.0, 95.0, 5.0, float("nan"), 140.0])
    svg = parse(figure)
    assert len(svg.findall(f"{SVG}rect")) == 11  # frame + 10 bars
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "90 to 100%: 4" in desc and "0 to 10%: 1" in desc
    assert "NaN or infinite" in caption(figure)


def test_check_error_plot_shows_each_submission_and_each_tolerance() -> None:
    errors = {"forward_scores": [1e-9, 1e-8, 0.03], "loss <b>": [0.0, 2e-9], "no_tolerance": [0.5]}
    figure = check_error_plot(errors, {"forward_scores": 1e-7, "loss <b>": 1e-8}, measure="relative error")
    svg = parse(figure)
    dots = [c for c in svg.iter(f"{SVG}circle") if c.get("class") == "dot"]
    assert len(dots) == 6
    assert sum(1 for d in dots if d.get("fill") == "#cf222e") == 1  # only 0.03 missed its tolerance
    assert len([line for line in svg.iter(f"{SVG}line") if line.get("class") == "tolerance"]) == 2
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "forward_scores: 3 submissions, 2 within the tolerance 1e-07" in desc and "1 exactly 0" in desc
    assert "<b>" not in str(figure)


def _decode_grey_png(png: bytes) -> np.ndarray:
    """Rows of an 8-bit greyscale PNG written with filter 0 (what weight_grid writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert (depth, colour) == (8, 0)
    idat = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[idat - 4 : idat])
    raw = np.frombuffer(zlib.decompress(png[idat + 4 : idat + 4 + length]), dtype=np.uint8).reshape(height, width + 1)
    assert not raw[:, 0].any()
    return raw[:, 1:]


def test_a_large_class_is_thinned_evenly_and_says_so() -> None:
    errors = np.geomspace(1e-12, 1.0, 5000)
    figure = check_error_plot({"gradients": errors}, {"gradients": 1e-8})
    dots = [c for c in parse(figure).iter(f"{SVG}circle") if c.get("class") == "dot"]
    assert len(dots) == 1000
    assert "1 in 5 of 5000 submissions drawn" in caption(figure)


def test_a_narrow_range_gets_tick_labels_that_differ() -> None:
    # a loss that barely moves (2.30255 to 2.30265) must not print "2.303" on every tick
    svg = parse(loss_plot([2.30265, 2.3026, 2.30255], None, log_scale=False))
    labels = [t.text for t in svg.iter() if t.tag.endswith("text") and t.get("text-anchor") == "end" and t.text]
    numeric = [label for label in labels if label.replace(".", "", 1).isdigit()]
    assert len(numeric) >= 2 and len(set(numeric)) == len(numeric), numeric
