"""Plain value types for text extracted from a file, before it is split."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpan:
    """Characters ``[char_start, char_end)`` of the text came from page ``number`` (1-based)."""

    number: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class Heading:
    """A heading whose text starts at ``char_start`` in the extracted text."""

    char_start: int
    text: str


@dataclass(frozen=True)
class Extracted:
    """Text of one document, exactly as the store keeps it.

    Paragraphs are separated by blank lines; every character offset docqa reports
    is an index into ``text``.
    """

    text: str
    title: str | None = None
    pages: tuple[PageSpan, ...] = ()
    headings: tuple[Heading, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character ``offset``, or None when pages are unknown."""
        for page in self.pages:
            if page.char_start <= offset < page.char_end:
                return page.number
        return None

    def heading_before(self, offset: int) -> str | None:
        """Text of the last heading that starts at or before ``offset``."""
        best: str | None = None
        for heading in self.headings:
            if heading.char_start <= offset:
                best = heading.text
            else:
                break
        return best
