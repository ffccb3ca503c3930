"""Values the retriever returns: hits with citations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from index.formats.pdf.boxes import PageBox, WordBoxRow

#: One float per candidate passage (second-stage signals and features).
Floats = npt.NDArray[np.float64]


class Mode(StrEnum):
    """Which signals rank passages."""

    DENSE = "dense"
    LEXICAL = "lexical"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class Citation:
    """Where a hit comes from, precise enough to highlight: ``text[char_start:char_end]``."""

    document_id: str
    title: str
    source: str
    paragraph: int
    char_start: int
    char_end: int
    page: int | None = None
    section: str | None = None
    # PDF passages: the pages the passage spans and one highlight box per line.
    pages: tuple[int, ...] = ()
    boxes: tuple[PageBox, ...] = ()
    # The passage's word boxes, so that an answer span inside it can be boxed too.
    words: tuple[WordBoxRow, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class Span:
    """A span of a text: ``text == source[char_start:char_end]``.

    The one span type: the extractor gives spans of the passage it read; hits and
    answers carry spans of the document text (the passage's offsets added).
    """

    text: str
    char_start: int
    char_end: int

    @classmethod
    def of(cls, source: str, char_start: int, char_end: int) -> Span:
        """The span ``source[char_start:char_end]``."""
        return cls(source[char_start:char_end], char_start, char_end)


@dataclass(frozen=True)
class Hit:
    """One ranked passage."""

    rank: int
    score: float
    passage_id: str
    text: str
    citation: Citation
    answer: Span | None = None
    sentence: Span | None = None
    # The calibrated chance that this passage answers the question, on its own (not
    # relative to the other hits); None where no relevance model applies.
    relevance: float | None = None
    # What the relevance was read from (raw cosines, term coverage, rank, ...), by name.
    evidence: Mapping[str, float] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class SearchResult:
    """Hits for one question, from one index generation."""

    query: str
    hits: tuple[Hit, ...]
    generation: int
    mode: Mode
