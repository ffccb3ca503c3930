"""Adapter to the answer-span extractor of ``retriever.answer``, which may be absent.

The API depends only on the small protocols below, so it runs (with a clearly marked
sentence fallback) when the span model's package or its weights are not installed, and
tests can inject a fake extractor.
"""

from __future__ import annotations

import logging
from typing import Protocol

logger = logging.getLogger(__name__)


class SpanLike(Protocol):
    """A span of the passage given to the extractor."""

    @property
    def text(self) -> str: ...

    @property
    def char_start(self) -> int: ...

    @property
    def char_end(self) -> int: ...


class SpansLike(Protocol):
    """What the extractor found in one passage (``retriever.answer.AnswerSpans``)."""

    @property
    def answer(self) -> SpanLike | None: ...

    @property
    def sentence(self) -> SpanLike | None: ...

    @property
    def score(self) -> float: ...


class Extractor(Protocol):
    """Marks the answer to a question inside one passage."""

    def extract(self, question: str, passage: str) -> SpansLike: ...


def load_extractor(reader: str) -> Extractor | None:
    """The shipped span extractor ``reader``, or None (logged) when it is unavailable."""
    try:
        from retriever.answer.extractor import load_reader
    except ImportError as exc:
        logger.warning("answer extractor not installed (%s): answers fall back to sentences", exc)
        return None
    try:
        extractor: Extractor = load_reader(reader)
    except Exception as exc:  # noqa: BLE001 - missing weights must not stop the server
        logger.warning("answer extractor unavailable (%s): answers fall back to sentences", exc)
        return None
    return extractor
