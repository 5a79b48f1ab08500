"""Text from a submission made safe to show, and long text cut to its two ends.

Every string a submission produced is untrusted: `clean_text` strips what could move a
terminal's cursor or reorder what a reader sees; `head_and_tail` is the one way long
output is shortened (the start shows what ran, the end where it stopped). Text is made
valid (no lone surrogates) once, where it enters the trusted side, by `grader.text.valid_text`
(re-exported here).
"""

from __future__ import annotations

import re

from grader.text import valid_text

__all__ = ["clean_text", "head_and_tail", "valid_text"]

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and the
# 8-bit CSI/OSC forms: these can move the cursor, retitle a terminal or hide text.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
# Bidi embeddings/overrides/isolates (Trojan Source) and the invisible direction marks,
# plus C0/C1 controls other than tab and newline: none of them belongs in a report.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(s: str) -> str:
    """Return `s` without terminal escape sequences, bidi controls or stray control characters.

    Tabs and newlines stay. A lone carriage return becomes a newline: a terminal would
    let the text after it overwrite the text before, which could hide part of a name
    or message; on a new line, a redrawn progress bar shows every state instead.
    """
    s = _ANSI.sub("", s).replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", s)


def head_and_tail(text: str, limit: int, gap: str = "\n[...]\n") -> str:
    """`text`, or when longer than `limit` its first and last `limit // 2` characters around `gap`."""
    if len(text) <= limit:
        return text
    return text[: limit // 2] + gap + text[-limit // 2 :]
