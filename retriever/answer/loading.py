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


def load_extractor(reader: str, preload: bool = False) -> Extractor | None:
    """The shipped span reader(s) ``reader``, or None (logged) when not installed.

    Each reader is loaded by the first question that needs it (torch and the model's
    weights with it), unless ``preload`` asks for all of them now; ``/health`` reports
    which are loaded (:func:`reader_status`).
    """
    try:
        from retriever.answer.on_demand import readers_on_demand
    except ImportError as exc:
        logger.warning("answer extractor not installed (%s): answers fall back to sentences", exc)
        return None
    readers = readers_on_demand(reader)
    if preload:
        readers.load_all()
    return readers


def reader_status(extractor: Extractor | None) -> dict[str, str]:
    """Each reader's state (``on_demand``, ``loaded``, ``unavailable``) by name; an
    extractor that is not the shipped on-demand set counts as one loaded reader."""
    if extractor is None:
        return {}
    status = getattr(extractor, "status", None)
    if callable(status):
        return dict(status())
    return {"custom": "loaded"}
