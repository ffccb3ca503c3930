"""Highlight boxes of a cited span: one rectangle per text line, in PDF points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.models import WordBoxRow

__all__ = ["PageBox", "WordBoxRow", "line_boxes"]


@dataclass(frozen=True)
class PageBox:
    """A rectangle on page ``page`` (1-based), PDF points, origin bottom-left."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float


def line_boxes(words: Sequence[WordBoxRow], char_start: int, char_end: int) -> list[PageBox]:
    """Merge the boxes of the words inside ``[char_start, char_end)`` line by line.

    Words are in text order; a new line starts at a page change or where a word does
    not overlap the previous one vertically.
    """
    boxes: list[PageBox] = []
    for start, end, page, x0, y0, x1, y1 in words:
        if end <= char_start or start >= char_end:
            continue
        if boxes:
            last = boxes[-1]
            overlap = min(last.y1, y1) - max(last.y0, y0)
            if (
                last.page == page
                and overlap > 0.5 * min(last.y1 - last.y0, y1 - y0)
                and x0 >= last.x0
            ):
                boxes[-1] = PageBox(
                    page, last.x0, min(last.y0, y0), max(last.x1, x1), max(last.y1, y1)
                )
                continue
        boxes.append(PageBox(page, x0, y0, x1, y1))
    return boxes
