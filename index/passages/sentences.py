"""Split a passage into sentences with character offsets (English-style and CJK punctuation).

The second ranking stage scores a passage by its best sentence, so a sentence here only
needs to be a unit a question can be written from: a missed boundary costs a little
precision, never text (the spans cover every non-space character of the passage).
"""

from __future__ import annotations

import re

# A Latin . ! ? (plus closing quotes or brackets) before whitespace and a capital, digit
# or opening quote; or a CJK sentence end, which needs no space after it.
_BOUNDARY = re.compile(
    r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9\u3400-\u9fff])"
    r"|[\u3002\uff01\uff1f]+[\u201d\u2019\u300d\u300f\uff09]*"
)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs prof gen col lt sgt capt rev mt ft no nos inc ltd co corp "
    "dept univ est approx fig jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e "
    "u.s u.k a.d b.c etc al ca".split()
)
_UNIT = re.compile(r"[\u3400-\u9fff]|[^\W_\u3400-\u9fff]+", re.UNICODE)
#: Fragments of fewer words (or CJK characters) than this ("Yes.", "See below.") join a
#: neighbour: alone they carry too little meaning to be scored, and match by accident.
MIN_SENTENCE_UNITS = 3


def _ends_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip("\"'(\u201c\u2018[")
    return (len(word) == 1 and word.isupper()) or word.lower() in _ABBREVIATIONS


def _short(sentence: str) -> bool:
    return len(_UNIT.findall(sentence)) < MIN_SENTENCE_UNITS


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentences of ``text`` as ``(start, end)`` offsets, in order, trimmed of whitespace,
    as written (short fragments stay on their own).

    Returns:
        Spans that together cover every non-space character of ``text``.
    """
    cuts = [m.end() for m in _BOUNDARY.finditer(text) if not _ends_abbreviation(text, m.start())]
    spans: list[tuple[int, int]] = []
    low = 0
    for high in [*cuts, len(text)]:
        start, end = low, high
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        low = high
        if end > start:
            spans.append((start, end))
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences of ``text`` for scoring: :func:`split_sentences`, with each fragment of
    fewer than ``MIN_SENTENCE_UNITS`` words joined to the sentence before it.

    Returns:
        At least one span when ``text`` has a non-space character, none otherwise.
    """
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if spans and (_short(text[start:end]) or _short(text[spans[-1][0] : spans[-1][1]])):
            spans[-1] = (spans[-1][0], end)  # a short fragment joins the sentence before
        else:
            spans.append((start, end))
    return spans
