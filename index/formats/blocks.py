"""Join extracted blocks into the blank-line-separated text the splitter expects."""

from __future__ import annotations

from collections.abc import Iterable

from index.formats.extracted import Heading

SEPARATOR = "\n\n"


def join_blocks(blocks: Iterable[tuple[str, bool]]) -> tuple[str, tuple[Heading, ...]]:
    """``(text, is_heading)`` blocks → the document text and its headings' offsets."""
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for text, is_heading in blocks:
        if parts:
            offset += len(SEPARATOR)
        if is_heading:
            headings.append(Heading(char_start=offset, text=text))
        parts.append(text)
        offset += len(text)
    return SEPARATOR.join(parts), tuple(headings)
