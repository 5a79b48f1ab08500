"""Text from a submission made valid once, where it enters the trusted side.

Every stage may import this module (it imports nothing of the grader): the wire format's
reader (headers and messages from a worker), the runner (captured output), grading (file
names, paths, notebook text, the exception text of a failure on our side) and the outputs.
A string is valid when it encodes as UTF-8: a lone UTF-16 surrogate (an exception message,
printed output, a `\\ud800` escape in a notebook, a folder name `unzip` made from an old
latin-1 export) is not, and writing it to a report or a gradebook raises. `valid_text`
replaces each with U+FFFD; `capped` also bounds the length, so the cost of what follows
never depends on what a student sent.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["capped", "valid_strings", "valid_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """`text` as valid Unicode: a lone UTF-16 surrogate becomes U+FFFD, a split pair is joined.

    Costs one scan when there is nothing to replace (the common case).
    """
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def capped(text: str, limit: int, cut: str = " [...]") -> str:
    """`valid_text(text)` of at most `limit` characters: the head, then `cut` when longer."""
    if len(text) > limit:
        text = text[: max(0, limit - len(cut))] + cut
    return valid_text(text)


def valid_strings(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, tuples, strings, numbers) with every string, keys
    included, made valid by `valid_text`; other values are returned as they are."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_strings(k): valid_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(valid_strings(v) for v in value)
    return value
