"""Text that a spreadsheet or an LMS import shows as text, whatever a student put in it.

Every CSV writer passes each text cell through `spreadsheet_cell`: names, ids, e-mail
addresses, check names, messages. Spreadsheets (Excel, LibreOffice, Google Sheets) run a
cell that starts with `=`, `+`, `-` or `@` as a formula or a DDE command; OWASP's advice is
a leading apostrophe. A student can hide that first character behind an invisible one
(a byte-order mark, a zero-width space, a bidi control) or write it in its fullwidth form
(`＝`, which Excel with an East Asian input method turns into `=`), so the test looks
through both. Numbers the grader writes itself are not text and never pass through here.
"""

from __future__ import annotations

import re
import unicodedata

from grader.outputs.text import clean_text
from grader.text import valid_text  # the one definition, re-exported for the LMS writers

__all__ = ["CELL_LIMIT", "spreadsheet_cell", "valid_text"]

# Excel stops at 32,767 characters per cell (counted in UTF-16 units); stay well below,
# with room for the apostrophe and the cut marker.
CELL_LIMIT = 32_000
_CUT = " [...]"
# Characters nobody sees: BOM, zero-width space/non-joiner/joiner, word joiner, the
# invisible operators, bidi embeddings/overrides/isolates and direction marks, the
# Mongolian vowel separator and the soft hyphen.
_INVISIBLE = (
    "\ufeff\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u180e\u00ad"
)
_LEADING_INVISIBLE = re.compile(f"^[{_INVISIBLE}\\s]+")
_LEADING_INVISIBLE_ONLY = re.compile(f"^[{_INVISIBLE}]+")
# Inside a cell the joiners stay: Persian and Indic names and emoji sequences need them.
_DROPPED = re.compile(f"[{_INVISIBLE.replace(chr(0x200C) + chr(0x200D), '')}]")
# Every line break a reader may honour: CR, LF, VT, FF, the file/group/record separators,
# NEL, and the Unicode line and paragraph separators. A tab stays: CSV quotes it.
# ...except where they join nothing: at the start, or after a blank.
_LOOSE_JOINERS = re.compile("(?:^|(?<=\\s))[\u200c\u200d]+")
_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_FORMULA_STARTS = frozenset("=+-@\u2212")  # U+2212 MINUS SIGN: some spreadsheets take it as "-"


def spreadsheet_cell(text: str) -> str:
    """One line of text that no spreadsheet reads as a formula, at most `CELL_LIMIT` long.

    Valid Unicode; terminal escapes, control and invisible characters removed; every line
    break (U+2028 and U+2029 too) replaced by a space; a leading `=`, `+`, `-`, `@`
    (or their fullwidth and small forms), looked for behind blanks and invisible
    characters, gets an apostrophe in front, as does a cell that started with a tab or CR.
    """
    # Cut first (generously) so the cost never depends on what a student sent.
    text = valid_text(text[: CELL_LIMIT * 4])
    first = _LEADING_INVISIBLE_ONLY.sub("", text)[:1]
    text = _BREAKS.sub(" ", text)
    text = clean_text(_LOOSE_JOINERS.sub("", _DROPPED.sub("", text)))
    visible = _LEADING_INVISIBLE.sub("", text)
    starts = unicodedata.normalize("NFKC", visible[:1]) if visible else ""
    text = _cap(text, CELL_LIMIT - 1)
    if starts in _FORMULA_STARTS or visible[:1] in _FORMULA_STARTS or first in ("\t", "\r", "\n"):
        return "'" + text
    return text


def _cap(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 units (how Excel counts), never inside a character."""
    if _utf16_len(text) <= limit:
        return text
    keep = limit - len(_CUT)
    # Cut the UTF-16 form; "ignore" drops the half of a pair the cut may leave at the end.
    return text.encode("utf-16-le")[: keep * 2].decode("utf-16-le", "ignore") + _CUT


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
