"""Rule-based sentence boundaries with character offsets (English and Chinese)."""

from __future__ import annotations

import re

# A Latin full stop / ! / ? (plus closing quotes or brackets) followed by space and a
# capital, digit, opening quote or CJK character; or a CJK sentence end (no space needed).
_BOUNDARY = re.compile(
    r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9\u4e00-\u9fff])"
    r"|[\u3002\uff01\uff1f]+[\u201d\u2019\u300d\u300f\uff09]*"
)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs prof gen col lt sgt capt rev mt ft no inc ltd co corp dept "
    "univ est approx fig jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k "
    "a.d b.c etc al".split()
)


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the '.' at ``dot`` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip("\"'(\u201c\u2018[")
    if len(word) == 1 and word.isupper():
        return True  # an initial such as "J. R. R. Tolkien"
    return word.lower() in _ABBREVIATIONS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences.

    Returns:
        ``(start, end)`` offsets, in order, each without surrounding whitespace; together
        they cover every non-space character of ``text``.
    """
    cuts: list[int] = []
    for match in _BOUNDARY.finditer(text):
        if not _is_abbreviation(text, match.start()):
            cuts.append(match.end())
    spans: list[tuple[int, int]] = []
    lo = 0
    for hi in [*cuts, len(text)]:
        a, b = lo, hi
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
        lo = hi
    return spans


def covering_sentence(text: str, char_start: int, char_end: int) -> tuple[int, int]:
    """Offsets of the sentence(s) of ``text`` that overlap ``[char_start, char_end)``.

    An answer that crosses a (mis-detected) boundary gets every sentence it touches.
    """
    touched = [
        (a, b)
        for a, b in sentence_spans(text)
        if a < max(char_end, char_start + 1) and b > char_start
    ]
    if not touched:
        return char_start, char_end
    return min(touched[0][0], char_start), max(touched[-1][1], char_end)
