"""Rebuild paragraphs and headings of a page from its lines' geometry and fonts."""

from __future__ import annotations

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


def document_style(pages: Sequence[Sequence[Line]]) -> Style:
    """The most common font size (by characters) and baseline gap of body lines."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line.text)
    body = max(sizes, key=lambda s: (sizes[s], -s)) if sizes else 10.0
    gaps: Counter[float] = Counter()
    for lines in pages:
        for above, below in zip(lines, lines[1:], strict=False):
            gap = round(above.baseline - below.baseline, 1)
            if abs(above.size - body) < 0.5 and 0 < gap < 3 * body:
                gaps[gap] += 1
    spacing = min(gaps, key=lambda g: (-gaps[g], g)) if gaps else 1.2 * body
    return Style(body_size=body, spacing=spacing)


def _is_heading_line(line: Line, style: Style) -> bool:
    if len(line.text) > _HEADING_MAX_CHARS or line.text.endswith((".", ",", ";")):
        return False
    return line.size >= style.body_size + _HEADING_SIZE_STEP or (
        line.bold and abs(line.size - style.body_size) < 0.5 and len(line.text) < 80
    )


def page_blocks(lines: Sequence[Line], style: Style) -> list[Block]:
    """Group a page's (non-furniture) lines into paragraph and heading blocks."""
    if not lines:
        return []
    blocks: list[Block] = []
    current: list[Line] = []
    current_heading = False
    for line in lines:
        heading = _is_heading_line(line, style)
        if current and _breaks(current, line, heading, current_heading, style):
            blocks.append(Block(tuple(current), current_heading))
            current = []
        if not current:
            current_heading = heading
        current.append(line)
    blocks.append(Block(tuple(current), current_heading))
    return blocks


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
        # First-line indent of a new paragraph, unless the block is a hanging list.
        return len(current) > 1 or previous.x1 - column_left > _SHORT_LINE * width
    if line.x0 < previous.x0 - 0.8 * style.body_size and len(current) == 1:
        # Previous line was indented further (a term's definition ends, or a list item).
        return previous.text.endswith(_SENTENCE_END)
    return (
        len(current) > 1
        and previous.text.endswith(_SENTENCE_END)
        and previous.x1 - column_left < _SHORT_LINE * width
    )
