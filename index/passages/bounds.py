"""Passages of bounded length: oversize paragraphs are cut, keeping exact offsets.

One pasted 500 KB paragraph would otherwise be one passage that every encoder and the
sentence stage read in full; cutting it bounds the work per passage, and a cap on the
passages per document bounds the work (and tokens embedded) per file.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from index.passages.sentences import sentence_spans
from index.passages.splitter import ParagraphSpan, split_paragraphs

DEFAULT_MAX_PARAGRAPH_CHARS = 4_000
DEFAULT_MAX_PASSAGES = 5_000
DEFAULT_MAX_BATCH_TOKENS = 4_096
_SPACES = (" ", "\n", "\t", "\u3000", "\xa0")


@dataclass(frozen=True)
class PassageLimits:
    """What embedding a document may cost.

    ``max_paragraph_chars``: longest passage; ``max_passages``: most per document;
    ``max_batch_tokens``: most tokens in one encoder batch (bounds its memory).
    """

    max_paragraph_chars: int = DEFAULT_MAX_PARAGRAPH_CHARS
    max_passages: int = DEFAULT_MAX_PASSAGES
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS


def _last_space(text: str, start: int, end: int) -> int:
    """Index of the last whitespace in ``text[start:end]`` after ``start``, or -1."""
    return max(text.rfind(space, start + 1, end) for space in _SPACES)


def _windows(text: str, max_chars: int) -> Iterator[tuple[int, int]]:
    """``[start, end)`` windows of at most ``max_chars`` covering ``text``'s non-space text.

    Cut at the last sentence end inside the window, else the last space, else hard.
    """
    ends = [end for _, end in sentence_spans(text)]
    position, length = 0, len(text)
    while length - position > max_chars:
        limit = position + max_chars
        found = bisect_right(ends, limit) - 1
        cut = ends[found] if found >= 0 and ends[found] > position else -1
        if cut < 0:
            space = _last_space(text, position, limit)
            cut = space if space > position else limit
        yield position, cut
        position = cut
        while position < length and text[position].isspace():
            position += 1
    if position < length:
        yield position, length


def bounded_paragraphs(text: str, max_chars: int) -> list[ParagraphSpan]:
    """:func:`split_paragraphs`, with paragraphs over ``max_chars`` cut into several.

    Every span still satisfies ``text[char_start:char_end] == span.text``.
    """
    return bound_spans(text, split_paragraphs(text), max_chars)


def bound_spans(text: str, paragraphs: list[ParagraphSpan], max_chars: int) -> list[ParagraphSpan]:
    """``paragraphs`` (spans of ``text``) with those over ``max_chars`` cut into several."""
    spans: list[ParagraphSpan] = []
    for paragraph in paragraphs:
        if len(paragraph.text) <= max_chars:
            pieces = [(0, len(paragraph.text))]
        else:
            pieces = list(_windows(paragraph.text, max_chars))
        for start, end in pieces:
            raw = paragraph.text[start:end]
            stripped = raw.strip()
            if not stripped:
                continue
            begin = paragraph.char_start + start + (len(raw) - len(raw.lstrip()))
            spans.append(ParagraphSpan(len(spans), begin, begin + len(stripped), stripped))
    return spans
