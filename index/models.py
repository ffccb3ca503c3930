"""Domain values of the index: documents and passages."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A word's box on a PDF page: ``(char_start, char_end, page, x0, y0, x1, y1)``, in points.
WordBoxRow = tuple[int, int, int, float, float, float, float]


@dataclass(frozen=True)
class DocumentInput:
    """A document ready to index: its id, the text the store keeps, and metadata."""

    document_id: str
    text: str
    title: str
    source: str
    pages: tuple[tuple[int, int, int], ...] = ()  # (page number, char_start, char_end)
    headings: tuple[tuple[int, str], ...] = ()  # (char_start, heading text)
    metadata: dict[str, object] = field(default_factory=dict, hash=False, compare=False)
    # Passage spans (char_start, char_end) from a layout-aware reader; empty: split the
    # text at blank lines.
    passages: tuple[tuple[int, int], ...] = ()
    # Word boxes on PDF pages.
    boxes: tuple[WordBoxRow, ...] = field(default=(), hash=False, compare=False)


@dataclass(frozen=True)
class DocumentInfo:
    """What the store knows of an indexed document (without its text)."""

    document_id: str
    title: str
    source: str
    content_hash: str
    n_passages: int
    metadata: dict[str, object] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Passage:
    """One indexed paragraph: ``document.text[char_start:char_end] == text``."""

    vector_id: int
    passage_id: str
    document_id: str
    paragraph: int
    char_start: int
    char_end: int
    text: str
    title: str
    source: str
    section: str | None = None
    page: int | None = None


#: Search results of one signal: ``(vector id, score)`` pairs, best first.
Ranked = list[tuple[int, float]]
