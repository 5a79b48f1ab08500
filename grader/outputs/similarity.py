"""Submissions whose code is near-identical, for a human to judge (never a deduction).

Fingerprints are copydetect's (`CodeFingerprint`: pygments tokens with names, strings and
comments normalised, then winnowed k-grams) and pairs are compared with its `compare_files`.
The template's code is boilerplate: what every student was given never counts as shared.
Only text is read here; nothing a student handed in is run.

Cost: a fingerprint takes ~25 ms for a 300-line file, a full comparison ~3 ms; pairs are
first screened by the share of fingerprints they have in common (a set intersection, a few
microseconds), so a class of 300 (45,000 pairs) takes seconds, not minutes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from copydetect import CodeFingerprint, compare_files

__all__ = ["Segment", "SimilarPair", "fingerprint", "similar_pairs"]

NOISE = 25  # copydetect's noise threshold k: shorter runs of tokens never count as shared
GUARANTEE = 25  # a shared run this long is always found (window = GUARANTEE - NOISE + 1)
THRESHOLD = 0.8  # flagged when each side shares at least this much of its own code
_LINES_SHOWN = 400


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one file's source, and whether it is shared with the other file."""

    text: str
    shared: bool


@dataclass(frozen=True, slots=True)
class SimilarPair:
    """Two submissions (by key) that share most of their code; the shares are 0..1."""

    first: str
    second: str
    first_share: float
    second_share: float
    first_file: str
    second_file: str
    first_segments: tuple[Segment, ...]
    second_segments: tuple[Segment, ...]


def fingerprint(name: str, code: str, boilerplate: Sequence[int] = ()) -> CodeFingerprint:
    """copydetect's fingerprint of `code` read as Python (`name` only labels it)."""
    return CodeFingerprint(
        name, NOISE, GUARANTEE - NOISE + 1, boilerplate=list(boilerplate), language="python", fp=io.StringIO(code)
    )


def similar_pairs(
    codes: Mapping[str, tuple[str, str]], boilerplate: Sequence[str] = (), threshold: float = THRESHOLD
) -> list[SimilarPair]:
    """Pairs of `codes` ({key: (file name, source)}) sharing at least `threshold` of their
    code both ways once `boilerplate` (the template's sources) is left out; most similar first."""
    given = sorted({int(h) for source in boilerplate for h in fingerprint("template.py", source).hashes})
    prints = {key: fingerprint(name, code, given) for key, (name, code) in sorted(codes.items()) if code.strip()}
    pairs = []
    for a, b in combinations(prints, 2):
        fa, fb = prints[a], prints[b]
        if not fa.hashes or not fb.hashes:
            continue
        # screen: near-identical code shares most of its fingerprints; most pairs stop here
        if len(fa.hashes & fb.hashes) < threshold * 0.5 * min(len(fa.hashes), len(fb.hashes)):
            continue
        _, (share_a, share_b), (slices_a, slices_b) = compare_files(fa, fb)
        if min(share_a, share_b) >= threshold:
            pairs.append(
                SimilarPair(
                    a,
                    b,
                    float(share_a),
                    float(share_b),
                    codes[a][0],
                    codes[b][0],
                    _segments(fa.raw_code, slices_a),
                    _segments(fb.raw_code, slices_b),
                )
            )
    return sorted(pairs, key=lambda p: (-min(p.first_share, p.second_share), p.first, p.second))


def _segments(code: str, slices: np.ndarray) -> tuple[Segment, ...]:
    """The code (its first lines) cut into shared and own stretches."""
    shown = "".join(code.splitlines(keepends=True)[:_LINES_SHOWN])
    segments, at = [], 0
    spans = sorted(zip(slices[0].tolist(), slices[1].tolist())) if len(slices) and slices.size else []
    for start, end in spans:
        start, end = max(start, at), min(end, len(shown))
        if start >= end:
            continue
        if start > at:
            segments.append(Segment(shown[at:start], False))
        segments.append(Segment(shown[start:end], True))
        at = end
    if at < len(shown):
        segments.append(Segment(shown[at:], False))
    return tuple(segments)
