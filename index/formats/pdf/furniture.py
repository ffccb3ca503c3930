"""Page furniture: running headers, footers and page numbers, and table-of-contents pages.

Furniture is found by repetition across pages, since no PDF marks it: a line near the
top or bottom edge whose text (digits aside) recurs at the same height on other pages,
or that carries a page number at the same height as most pages do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from index.formats.pdf.lines import Line

# Share of the page height, from the top and from the bottom, where furniture can sit.
_BAND = 0.12
# Baselines this close (points) count as the same height on two pages.
_SAME_HEIGHT = 3.0
_NUMBER = re.compile(r"^(?:\d{1,4}|[ivxlcdm]{1,7})$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# Dot leaders, then a page number, at the end of a line.
_LEADERS = re.compile(r"(?:\.\s*){3,}\s*\d+\s*$")
# A table-of-contents or index entry: text, then dot leaders or a gap, then page numbers.
_ENTRY = re.compile(_LEADERS.pattern + r"|\s\d{1,4}(?:\s*[,–-]\s*\d{1,4})*\s*$")
_TOC_SHARE = 0.5
_TOC_MIN_LINES = 6


def _key(line: Line) -> str:
    return _DIGITS.sub("#", line.text.lower()).strip()


def _page_number_ends(text: str) -> bool:
    tokens = text.split()
    return bool(tokens) and (
        _NUMBER.match(tokens[0]) is not None or _NUMBER.match(tokens[-1]) is not None
    )


def _in_band(line: Line, height: float) -> bool:
    return line.baseline > height * (1 - _BAND) or line.baseline < height * _BAND


def find_furniture(pages: Sequence[Sequence[Line]], heights: Sequence[float]) -> list[set[int]]:
    """For each page, the indices of its lines that are running headers/footers.

    Args:
        pages: Each page's lines.
        heights: Each page's height in points.
    """
    repeats: Counter[tuple[str, int]] = Counter()
    numbered: Counter[int] = Counter()
    for lines, height in zip(pages, heights, strict=True):
        seen: set[tuple[str, int]] = set()
        heights_numbered: set[int] = set()
        for line in lines:
            if not _in_band(line, height):
                continue
            slot = round(line.baseline / _SAME_HEIGHT)
            seen.add((_key(line), slot))
            if _page_number_ends(line.text):
                heights_numbered.add(slot)
        repeats.update(seen)
        numbered.update(heights_numbered)
    n_pages = len(pages)
    furniture: list[set[int]] = []
    for lines, height in zip(pages, heights, strict=True):
        chosen: set[int] = set()
        for index, line in enumerate(lines):
            if not _in_band(line, height):
                continue
            slot = round(line.baseline / _SAME_HEIGHT)
            near = [repeats[(_key(line), s)] for s in (slot - 1, slot, slot + 1)]
            if (
                max(near) >= 2
                or _NUMBER.match(line.text.strip()) is not None
                or (
                    _page_number_ends(line.text)
                    and n_pages >= 3
                    and sum(numbered[s] for s in (slot - 1, slot, slot + 1)) >= 0.3 * n_pages
                )
            ):
                chosen.add(index)
        furniture.append(chosen)
    return furniture


def is_contents_page(lines: Sequence[Line], *, follows_contents: bool = False) -> bool:
    """Whether a page is a table of contents or an index: most lines end in page numbers.

    A short page counts only when it ``follows_contents`` (an index's last page).
    """
    texts = [line.text for line in lines if line.text.strip()]
    if not texts or (len(texts) < _TOC_MIN_LINES and not follows_contents):
        return False
    entries = sum(1 for text in texts if _ENTRY.search(text))
    return entries >= _TOC_SHARE * len(texts)


def is_contents_block(texts: Sequence[str]) -> bool:
    """Whether a block is contents/index entries: most of its lines end in dot leaders."""
    leaders = sum(1 for text in texts if _LEADERS.search(text))
    return leaders > 0 and leaders >= _TOC_SHARE * len(texts)
