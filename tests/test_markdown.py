"""Notebook Markdown as a student sees it: rendered, sanitised, LaTeX kept as written."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from typing import Any

from grader.outputs.markdown import CELL_SIZE_LIMIT, cell_labels, render_markdown

# A real 1x1 PNG, as a notebook would embed one.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201e2"
        "2c7a9a0000000049454e44ae426082"
    )
).decode()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_markdown_is_rendered_as_jupyter_would() -> None:
    out = render_markdown("# Title\n\nSome *emphasis* and `code`.\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n")
    names = [t for t, _ in tags(out)]
    assert names[:2] == ["div", "h1"] and "em" in names and "code" in names and "table" in names


def test_scripts_and_event_handlers_are_removed() -> None:
    out = render_markdown(
        '<script>alert(1)</script>\n\n<b onclick="steal()">bold</b> <img src=x onerror="alert(2)">\n'
        '<svg onload="alert(3)"></svg><iframe src="https://example.com"></iframe>'
    )
    assert "<script" not in out and "alert(1)" not in out
    for tag, attrs in tags(out):
        assert tag not in ("script", "iframe", "svg", "object", "embed")
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
    assert "bold" in out


def test_links_keep_only_web_addresses_and_are_never_followed_automatically() -> None:
    out = render_markdown(
        "[ok](https://example.com/a) [js](javascript:alert(1))"
        ' <a href="javascript:alert(2)">raw</a>'
        ' <a href="data:text/html,hi">data</a> <a href="http://example.org">plain</a>'
    )
    links = [attrs for tag, attrs in tags(out) if tag == "a"]
    hrefs = [a["href"] for a in links if "href" in a]
    assert hrefs == ["https://example.com/a", "http://example.org"]
    assert all(set(a.get("rel", "").split()) >= {"noopener", "noreferrer", "nofollow"} for a in links)
    # markdown-it leaves a javascript: link as inert text; what matters is that no href carries it
    assert all("javascript" not in a.get("href", "") for a in links)


def test_remote_images_are_replaced_by_a_note_and_embedded_ones_shown() -> None:
    out = render_markdown(
        '![tracker](http://evil.example/p.png) <img src="https://evil.example/q.png" alt="raw">'
        "\n\n"
        f"![plot](data:image/png;base64,{PNG}) ![svg](data:image/svg+xml;base64,PHN2Zz4=)"
        f" ![liar](data:image/png;base64,{base64.b64encode(b'GIF89a not a png').decode()})"
    )
    srcs = [attrs.get("src", "") for tag, attrs in tags(out) if tag == "img"]
    assert srcs == [f"data:image/png;base64,{PNG}"]
    assert "evil.example" not in out
    assert out.count("not shown") == 3  # tracker, raw, liar (the SVG one is left as inert text by the parser)
    assert "tracker" in out  # the note says which image


def test_cell_attachments_are_shown() -> None:
    attachments = {"fig.png": {"image/png": PNG}}
    out = render_markdown("![fig](attachment:fig.png) ![other](attachment:missing.png)", attachments)
    assert [a["src"] for t, a in tags(out) if t == "img"] == [f"data:image/png;base64,{PNG}"]
    assert "not shown" in out


def test_style_that_loads_urls_is_removed_but_table_alignment_stays() -> None:
    out = render_markdown(
        '<p style="background:url(http://evil.example/x)">s</p><style>body{background:url(http://e/)}</style>\n\n'
        "| a |\n|--:|\n| 1 |\n"
    )
    assert "url(" not in out and "evil" not in out
    assert any(t == "td" and a.get("style") == "text-align:right" for t, a in tags(out))


def test_latex_survives_as_written_without_markdown_emphasis() -> None:
    out = render_markdown(
        "Loss $L = \\sum_i a_i * b_i * c$ costs \\$5; inline \\(x_*^2\\) and\n\n"
        "$$\n\\frac{\\partial L}{\\partial W_1}\n$$\n\n\\[ y_* * z_* \\]\n"
    )
    assert '<span class="math">$L = \\sum_i a_i * b_i * c$</span>' in out
    assert '<span class="math">\\(x_*^2\\)</span>' in out
    assert '<div class="math">$$\n\\frac{\\partial L}{\\partial W_1}\n$$</div>' in out
    assert "\\[ y_* * z_* \\]" in out
    assert "<em>" not in out and "costs $5" in out


def test_a_5_mb_cell_is_cut_with_a_note() -> None:
    out = render_markdown("word *word* " * 450_000)
    assert f"longer than {CELL_SIZE_LIMIT:,} characters" in out
    assert len(out) < 10 * CELL_SIZE_LIMIT


def test_hostile_text_never_raises() -> None:
    for source in [
        "lone \ud800 surrogate \udfff",
        "\x00\x1b[31mred\x07",
        "[" * 50_000,
        "\\(" * 20_000,
        "![" * 30_000,
        "<" * 10_000,
        "$" * 10_000,
        ">" * 5_000 + "deep",
    ]:
        out = render_markdown(source)
        out.encode("utf-8")  # would raise on a surviving lone surrogate
    assert "\ufffd" in render_markdown("lone \ud800 surrogate")
    assert "[[[" in render_markdown("[" * 50_000)  # too many brackets to parse: shown as written


def test_cells_are_labelled_by_execution_count_when_the_notebook_has_them() -> None:
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "source": "# Intro"},
        {"cell_type": "code", "source": "import numpy as np", "execution_count": 3},
        {"cell_type": "code", "source": ["\n", "class fcc:\n", "    pass\n"], "execution_count": None},
        {"cell_type": "code", "source": "x = 1", "execution_count": 7},
    ]
    labels = cell_labels(cells)
    assert [label.prompt for label in labels] == ["", "In [3]", "In [ ]", "In [7]"]
    assert [label.place for label in labels] == ["Markdown cell 1", "code cell 1", "code cell 2", "code cell 3"]
    assert labels[2].opening == "the cell starting `class fcc:`"
    assert labels[3].describe() == "code cell 3 (In [7]), the cell starting `x = 1`"


def test_cells_without_counts_are_numbered_among_code_cells_only() -> None:
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "source": "text"},
        {"cell_type": "code", "source": "a = 1"},
        {"cell_type": "raw", "source": ""},
        {"cell_type": "code", "source": "`x`" * 30, "execution_count": "7"},
        {"cell_type": "code", "source": 42, "execution_count": True},
    ]
    labels = cell_labels(cells)
    assert [label.prompt for label in labels] == ["", "code cell 1", "", "code cell 2", "code cell 3"]
    assert labels[3].opening.count("`") == 2 and labels[3].opening.endswith("…`")
    assert labels[4].opening == "" and labels[4].describe() == "code cell 3"
