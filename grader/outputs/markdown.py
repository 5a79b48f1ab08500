"""Notebook Markdown cells as a student sees them in Jupyter, made safe for a report page.

A Markdown cell is untrusted text: it may hold raw HTML, scripts, event handlers, remote
images (a tracking pixel in the instructor's browser) or a 5 MB paste. It is parsed with
markdown-it-py (CommonMark, tables, strikethrough, raw HTML on) and the HTML that comes out
is cleaned by nh3 (an allowlist sanitiser); our own notes are added after cleaning.

What survives: text formatting, lists, tables, code, headings, quotes; links to http(s) and
mailto (marked ``rel="noopener noreferrer nofollow"``, never followed automatically); images
only when they travel inside the notebook (a PNG, JPEG or GIF ``data:`` URI, or a cell
attachment), otherwise a short note stands in their place. LaTeX (``$...$``, ``$$...$$``,
``\\(...\\)``, ``\\[...\\]``) is kept exactly as written, in ``<span class="math">`` or
``<div class="math">``, so Markdown emphasis cannot eat its ``*`` and ``_``.

Cells are also named the way Jupyter shows them (`cell_labels`): ``In [7]`` from the
execution count when the notebook has counts, else ``code cell 6`` counting code cells only.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

__all__ = ["CELL_SIZE_LIMIT", "MARKDOWN_CSS", "CellLabel", "cell_labels", "render_markdown"]

CELL_SIZE_LIMIT = 100_000  # characters of one cell rendered; the rest is cut with a note
# markdown-it's link parsing is quadratic in unmatched "[": 100,000 of them take seconds. A
# cell with this many is not prose; it is shown as written instead of parsed.
_BRACKET_LIMIT = 5_000
_OPENING_LIMIT = 40  # characters of a cell's first line quoted in "the cell starting `...`"

# Styles for the page to include once. A student's unbroken 800-character word, wide table or
# long formula must wrap or scroll inside the cell, never widen the page.
MARKDOWN_CSS = """
.markdown { overflow-wrap: anywhere; }
.markdown img { max-width: 100%; height: auto; }
.markdown table { display: block; max-width: 100%; overflow-x: auto; width: auto; }
.markdown pre { white-space: pre-wrap; }
.markdown .math { font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", Georgia, serif; color: #0a3069; }
.markdown div.math { margin: 8px 0; padding: 6px 12px; background: #f6f8fa; border-radius: 6px; white-space: pre-wrap; }
.markdown .md-note { color: #9a6700; font-size: .85rem; }
"""

_SURROGATES = re.compile("[\ud800-\udfff]")
# Characters XML and HTML forbid or that hide text (C0/C1 controls, bidi overrides); tab/newline stay.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_CLOSING = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}
_IMAGE_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8"}
_DATA_URI = re.compile(r"data:(image/(?:png|jpeg|gif));base64,([A-Za-z0-9+/=\s]+)", re.IGNORECASE)
# nh3 serialises every attribute as name="value" with '"' escaped, so this finds whole <img> tags.
_IMG_TAG = re.compile(r'<img((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*/?>')
_IMG_ALT = re.compile(r'\salt="([^"]*)"')

_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}  # image maps carry hrefs on areas; not worth allowing
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"style", "colspan", "rowspan", "align"},
    "td": {"style", "colspan", "rowspan", "align"},
    "ol": {"start"},
    "abbr": {"title"},
}
# nh3 wants classes only here (not also under _ATTRIBUTES): math spans keep their style hook.
_CLASSES = {"span": {"math"}, "div": {"math"}}


@dataclass(frozen=True, slots=True)
class CellLabel:
    """How to name one notebook cell to a student; all fields are plain text (escape on output).

    `prompt` is what Jupyter prints left of a code cell: ``In [7]``, ``In [ ]`` for a cell
    never run in a notebook that has counts, or ``code cell 6`` when the notebook has no
    counts at all (``In [6]`` would be read as an execution count); "" for other cells.
    `place` counts cells of the same kind: ``code cell 6``, ``Markdown cell 2``, ``raw cell 1``.
    `opening` quotes the cell's first line: "the cell starting `class fcc:`" ("" when empty).
    """

    prompt: str
    place: str
    opening: str

    def describe(self) -> str:
        """``code cell 6 (In [7]), the cell starting `class fcc:` `` - a location in one phrase."""
        text = self.place
        if self.prompt and self.prompt != self.place:
            text += f" ({self.prompt})"
        return f"{text}, {self.opening}" if self.opening else text


def cell_labels(cells: Sequence[Mapping[str, Any]]) -> list[CellLabel]:
    """One `CellLabel` per cell of an nbformat-v4 cell list (mappings with ``cell_type``,
    ``source`` and, for code cells, ``execution_count``), in notebook order.

    Hostile values (a string or negative execution count, a non-string source) are read as
    missing, never raised on.
    """
    counts = [_execution_count(c) if c.get("cell_type") == "code" else None for c in cells]
    has_counts = any(n is not None for n in counts)
    seen: dict[str, int] = {}
    labels = []
    for cell, count in zip(cells, counts):
        kind = cell.get("cell_type")
        kind = kind if kind in ("code", "markdown") else "raw"
        seen[kind] = seen.get(kind, 0) + 1
        place = f"{'Markdown' if kind == 'markdown' else kind} cell {seen[kind]}"
        prompt = ""
        if kind == "code":
            prompt = (f"In [{count}]" if count is not None else "In [ ]") if has_counts else place
        labels.append(CellLabel(prompt, place, _opening(_source_text(cell.get("source", "")))))
    return labels


def render_markdown(source: str, attachments: Mapping[str, Any] | None = None) -> Markup:
    """The cell's Markdown as sanitised HTML in a ``<div class="markdown">``, safe to insert as is.

    `attachments` is the cell's nbformat ``attachments`` mapping (name -> {mime: base64});
    ``![x](attachment:name)`` shows the attachment when it is a PNG, JPEG or GIF. Text longer
    than `CELL_SIZE_LIMIT` characters is cut, with a note saying how much was left out.
    Never raises on any string (lone surrogates become U+FFFD).
    """
    text = _INVISIBLE.sub("", _SURROGATES.sub("\ufffd", str(source)))
    cut = max(0, len(text) - CELL_SIZE_LIMIT)
    text = text[:CELL_SIZE_LIMIT]
    if text.count("[") > _BRACKET_LIMIT:
        plain = f'<pre class="md-plain">{html.escape(text)}</pre>' + _cut_note(cut, "shown as written")
        return Markup(f'<div class="markdown">{plain}</div>')
    env: EnvType = {"attachments": dict(attachments or {})}
    dirty = _parser().render(text, env)
    clean = nh3.clean(
        dirty,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto", "data"},
        allowed_classes=_CLASSES,
        filter_style_properties={"text-align"},
    )
    return Markup(f'<div class="markdown">{_IMG_TAG.sub(_image_or_note, clean)}{_cut_note(cut, "")}</div>')


def _cut_note(cut: int, how: str) -> str:
    if not cut and not how:
        return ""
    parts = [f"This cell is longer than {CELL_SIZE_LIMIT:,} characters; the last {cut:,} are not shown."] if cut else []
    if how:
        parts.append(f"It holds too many brackets to lay out as Markdown, so it is {how}.")
    return f'<p class="md-note">{" ".join(parts)}</p>'


def _parser() -> MarkdownIt:
    # A fresh parser per call: its rules hold no state we rely on, and a shared one would be
    # module-level mutable state. Building one costs well under a millisecond.
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, double_inline=True)
    # \\( \\) and \\[ \\] by our own rule: mdit-py-plugins' texmath takes minutes on a cell of
    # unclosed "\\(" (it rescans to the end from each one); this rule is linear.
    md.inline.ruler.before("escape", "bracket_math", _bracket_math)
    for name in ("math_inline", "math_inline_double"):
        md.add_render_rule(name, _render_inline_math)
    for name in ("math_block", "math_block_label"):
        md.add_render_rule(name, _render_block_math)
    md.add_render_rule("image", _render_image)
    return md


def _bracket_math(state: StateInline, silent: bool) -> bool:
    """``\\(...\\)`` and ``\\[...\\]`` within one paragraph, kept as a math_inline token."""
    src, pos = state.src, state.pos
    if src[pos] != "\\" or pos + 1 >= state.posMax or src[pos + 1] not in "([":
        return False
    closing = _CLOSING[src[pos : pos + 2]]
    # The last closing delimiter is found once per paragraph, so a run of unclosed openers
    # fails at once instead of each searching to the end.
    last = state.env.setdefault("_last_closing", {})
    if last.get(closing, (None,))[0] is not src:
        last[closing] = (src, src.rfind(closing))
    end = src.find(closing, pos + 2) if pos + 2 <= last[closing][1] else -1
    if end < 0 or end + 2 > state.posMax:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.markup = src[pos : pos + 2]
        token.content = src[pos + 2 : end]
    state.pos = end + 2
    return True


def _as_written(token: Token) -> str:
    opening = token.markup or "$"
    written = opening + token.content + _CLOSING.get(opening, opening)
    return f"{written} ({token.info})" if token.type == "math_block_label" else written


def _render_inline_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<span class="math">{html.escape(_as_written(tokens[idx]))}</span>'


def _render_block_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<div class="math">{html.escape(_as_written(tokens[idx]))}</div>\n'


def _render_image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = str(token.attrGet("src") or "")
    if src.startswith("attachment:"):
        src = _attachment_uri(env.get("attachments", {}), src[len("attachment:") :])
    # An image we will not show still becomes an <img> without src: _image_or_note words the note.
    src_attr = f' src="{html.escape(src)}"' if _image_data_uri(src) else ""
    return f'<img{src_attr} alt="{html.escape(alt)}">'


def _attachment_uri(attachments: Mapping[str, Any], name: str) -> str:
    bundle = attachments.get(name)
    if not isinstance(bundle, Mapping):
        return ""
    for mime in _IMAGE_TYPES:
        data = bundle.get(mime)
        if isinstance(data, str):
            return f"data:{mime};base64,{''.join(data.split())}"
    return ""


def _image_data_uri(src: str) -> bool:
    """True for a base64 PNG/JPEG/GIF data URI whose bytes really start like that format."""
    match = _DATA_URI.fullmatch(src.strip())
    if not match:
        return False
    try:
        head = base64.b64decode("".join(match.group(2).split())[:64] + "==", validate=False)[:8]
    except (binascii.Error, ValueError):
        return False
    return head.startswith(_IMAGE_TYPES[match.group(1).lower()])


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _image_data_uri(value) else None
    if attribute == "href":
        return value if value.lower().startswith(("http://", "https://", "mailto:")) else None
    if attribute in ("width", "height"):
        return value if value.isdigit() and len(value) <= 4 else None
    return value


def _image_or_note(match: re.Match[str]) -> str:
    attributes = match.group(1)
    if re.search(r'\ssrc="', attributes):
        return match.group(0)
    alt = _IMG_ALT.search(attributes)
    # The alt text is already escaped by nh3's serialiser, so it is inserted as is.
    what = f"image &quot;{alt.group(1)}&quot;" if alt and alt.group(1).strip() else "an image"
    return f'<span class="md-note">[{what} not shown: only images stored in the notebook are shown]</span>'


def _execution_count(cell: Mapping[str, Any]) -> int | None:
    n = cell.get("execution_count")
    return n if isinstance(n, int) and not isinstance(n, bool) and 0 < n < 10**9 else None


def _source_text(source: object) -> str:
    # nbformat allows a list of lines on disk; a hostile file may put anything there.
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _opening(source: str) -> str:
    for line in source[:10_000].splitlines():
        line = _INVISIBLE.sub("", _SURROGATES.sub("\ufffd", line)).strip()
        if line:
            quoted = line if len(line) <= _OPENING_LIMIT else line[: _OPENING_LIMIT - 1].rstrip() + "…"
            # A backtick inside would end the quote early; a prime reads the same.
            return f"the cell starting `{quoted.replace('`', 'ʹ')}`"
    return ""
