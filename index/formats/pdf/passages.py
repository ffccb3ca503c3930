"""Passage spans from paragraph blocks: a heading opens one (unless the section before is
too short to stand alone), short blocks join their neighbours (a lone term stays with its
definition), long ones split at sentence ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.passages.sentences import split_sentences

MIN_CHARS = 150
TARGET_CHARS = 700
MAX_CHARS = 1500


@dataclass(frozen=True)
class Unit:
    """A searchable block of the document text: ``[start, end)``, a heading or not.

    ``breaks_before``: nothing may join it to the unit before it (a contents page or a
    new document part lies between).
    """

    start: int
    end: int
    heading: bool
    breaks_before: bool = False


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` at sentence ends into pieces of at most MAX_CHARS."""
    if end - start <= MAX_CHARS:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    piece_end = start
    for s, e in split_sentences(text[start:end]):
        s, e = s + start, e + start
        if e - piece_start > MAX_CHARS and piece_end > piece_start:
            pieces.append((piece_start, piece_end))
            piece_start = s
        while e - piece_start > MAX_CHARS:
            # One sentence longer than the bound: cut at the last space before it.
            cut = text.rfind(" ", piece_start + 1, piece_start + MAX_CHARS)
            cut = cut if cut > piece_start else piece_start + MAX_CHARS
            pieces.append((piece_start, cut))
            piece_start = cut + 1 if text[cut : cut + 1] == " " else cut
        piece_end = e
    if piece_end > piece_start:
        pieces.append((piece_start, piece_end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


def passage_spans(text: str, units: Sequence[Unit]) -> list[tuple[int, int]]:
    """Group ``units`` (in text order) into passage spans within the length bounds."""
    spans: list[tuple[int, int]] = []
    joinable: list[bool] = []  # whether spans[i] may take on the text that follows it
    current: tuple[int, int] | None = None
    only_headings = False

    def flush(can_join: bool) -> None:
        nonlocal current
        if current is None:
            return
        start, end = current
        if end - start < MIN_CHARS and spans and joinable[-1]:
            # A short tail (a closing remark, a lone term) goes to the passage before.
            start = spans.pop()[0]
            joinable.pop()
        for piece in _split_long(text, start, end):
            spans.append(piece)
            joinable.append(can_join)
        current = None

    for unit in units:
        if unit.breaks_before:
            flush(False)
            if spans:
                joinable[-1] = False
        elif (
            unit.heading
            and current is not None
            and not only_headings
            and current[1] - current[0] >= MIN_CHARS
        ):
            # A section too short to stand alone (a one-line entry under its label, as in
            # a change list) runs on into the next one instead of being a fragment.
            flush(False)
        if current is None:
            current = (unit.start, unit.end)
            only_headings = unit.heading
        else:
            current = (current[0], unit.end)
            only_headings = only_headings and unit.heading
        if not unit.heading and current[1] - current[0] >= TARGET_CHARS:
            flush(True)
    flush(True)
    return spans
