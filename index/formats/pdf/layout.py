"""Rebuild paragraphs and headings of a page from its lines' geometry and fonts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from index.formats.pdf.lines import Line

# A vertical gap this many times the usual line spacing ends a paragraph.
_GAP_RATIO = 1.4
# Larger than the body font by this many points: a heading.
_HEADING_SIZE_STEP = 0.8
_HEADING_MAX_CHARS = 120
# A line ending this far (share of the column width) short of the column's right edge
# after a sentence end is a paragraph's last line.
_SHORT_LINE = 0.8
_SENTENCE_END = (".", ":", "!", "?", "。", "：", "！", "？")
# Closing quotes and brackets after a sentence end: 'as shown.)' ends a sentence too.
_CLOSERS = "\"'”’)]」』"
# Running text, for the body size: at least this many words, and this share of its
# characters letters or sentence punctuation.
_PROSE_MIN_WORDS = 5
_PROSE_SHARE = 0.9
_PROSE_PUNCTUATION = " .,;:!?'’‘“”\"()-–—"
# A word broken at the line end.
_BROKEN_WORD = re.compile(r"[^\W\d_]-$")


@dataclass(frozen=True)
class Block:
    """Consecutive lines of one page that form a paragraph or a heading."""

    lines: tuple[Line, ...]
    heading: bool


@dataclass(frozen=True)
class Style:
    """Document-wide typography: the body font size and its line spacing."""

    body_size: float
    spacing: float


def _is_prose(text: str) -> bool:
    """A line of running text: several words, almost only letters, spaces and the
    punctuation of sentences (code, tables and formulas fail)."""
    if len(text.split()) < _PROSE_MIN_WORDS:
        return False
    plain = sum(1 for ch in text if ch.isalpha() or ch in _PROSE_PUNCTUATION)
    return plain >= _PROSE_SHARE * len(text)


def document_style(pages: Sequence[Sequence[Line]]) -> Style:
    """The most common font size (by characters) and baseline gap of body lines.

    Running text decides the body size when there is any: a manual whose code listings
    (set smaller) outweigh its prose would otherwise take every prose line for a heading.
    """
    sizes: Counter[float] = Counter()
    prose: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line.text)
            if _is_prose(line.text):
                prose[line.size] += len(line.text)
    counted = prose or sizes
    body = max(counted, key=lambda s: (counted[s], -s)) if counted else 10.0
    gaps: Counter[float] = Counter()
    for lines in pages:
        for above, below in zip(lines, lines[1:], strict=False):
            gap = round(above.baseline - below.baseline, 1)
            if abs(above.size - body) < 0.5 and 0 < gap < 3 * body:
                gaps[gap] += 1
    spacing = min(gaps, key=lambda g: (-gaps[g], g)) if gaps else 1.2 * body
    return Style(body_size=body, spacing=spacing)


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS).endswith(_SENTENCE_END)


def _is_heading_line(line: Line, style: Style) -> bool:
    if len(line.text) > _HEADING_MAX_CHARS or line.text.endswith((".", ",", ";")):
        return False
    return line.size >= style.body_size + _HEADING_SIZE_STEP or (
        line.bold
        and abs(line.size - style.body_size) < 0.5
        and len(line.text) < 80
        # A bold line that breaks a word is emphasised running text (a caption).
        and _BROKEN_WORD.search(line.text) is None
    )


def page_blocks(lines: Sequence[Line], style: Style) -> list[Block]:
    """Group a page's (non-furniture) lines into paragraph and heading blocks."""
    if not lines:
        return []
    blocks: list[Block] = []
    current: list[Line] = []
    # The current block's lines in its latest column: a paragraph that runs on into the
    # next column is one block, but indents and widths are measured within one column.
    column: list[Line] = []
    current_heading = False
    for line in lines:
        heading = _is_heading_line(line, style)
        if current and current_heading and not heading and _runs_on(column[-1], line, style):
            # Bold or large running text (an emphasised sentence, a caption), not a heading.
            current_heading = False
            heading = False
        elif current and not heading and not current_heading and _next_column(column, line):
            current.append(line)
            column = [line]
            continue
        elif current and _breaks(column, line, heading, current_heading, style):
            blocks.append(Block(tuple(current), current_heading))
            current, column = [], []
        if not current:
            current_heading = heading
        current.append(line)
        column.append(line)
    blocks.append(Block(tuple(current), current_heading))
    return blocks


def _runs_on(previous: Line, line: Line, style: Style) -> bool:
    """``line`` continues the sentence of ``previous`` at the usual line spacing."""
    drop = previous.baseline - line.baseline
    return (
        0 < drop <= _GAP_RATIO * max(style.spacing, line.size)
        and abs(line.size - previous.size) < 0.5
        and not _ends_sentence(previous.text)
        and line.text[:1].islower()
    )


def _next_column(column: list[Line], line: Line) -> bool:
    """``line`` opens the next column to the right in the middle of a sentence."""
    previous = column[-1]
    return (
        line.baseline > previous.baseline
        and line.x0 >= max(x.x1 for x in column) - 0.5 * line.size
        and abs(line.size - previous.size) < 0.5
        and not _ends_sentence(previous.text)
        and line.text[:1].islower()
    )


def _breaks(
    current: list[Line], line: Line, heading: bool, current_heading: bool, style: Style
) -> bool:
    previous = current[-1]
    if heading != current_heading:
        return True
    if heading:
        # Heading lines stay together only when they share one size and sit close.
        return abs(line.size - previous.size) > 0.5 or (
            previous.baseline - line.baseline > 2.2 * line.size
        )
    drop = previous.baseline - line.baseline
    if drop <= 0 or drop > _GAP_RATIO * max(style.spacing, line.size):
        return True  # a new column, or a paragraph gap
    width = max(max(x.x1 for x in current) - min(x.x0 for x in current), 1.0)
    column_left = min(x.x0 for x in current)
    if line.x0 > column_left + 0.8 * style.body_size and previous.x0 <= column_left + 1:
        # First-line indent of a new paragraph, unless the line before runs on into it:
        # a list item's or a labelled entry's hanging indent.
        return _ends_sentence(previous.text) or (len(current) > 1 and not line.text[:1].islower())
    if line.x0 < previous.x0 - 0.8 * style.body_size and len(current) == 1:
        # Previous line was indented further (a term's definition ends, or a list item).
        return _ends_sentence(previous.text)
    return (
        len(current) > 1
        and _ends_sentence(previous.text)
        and previous.x1 - column_left < _SHORT_LINE * width
    )
