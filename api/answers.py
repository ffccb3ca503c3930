"""Adapter to the answer-span extractor of ``retriever.answer``, which may be absent.

The API depends only on the small protocols below, so it runs (with a clearly marked
sentence fallback) when the span model's package or its weights are not installed, and
tests can inject a fake extractor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from docqa.settings import Settings

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


ExtractorFactory = Callable[[Settings], Extractor | None]


def load_extractor(settings: Settings) -> Extractor | None:
    """The shipped span reader(s), or None (logged) when disabled or not installed.

    Each reader is loaded by the first question that needs it (torch and the model's
    weights with it), unless ``settings.preload_readers`` asks for all of them now;
    ``/health`` reports which are loaded (:func:`reader_status`).
    """
    if not settings.answers:
        return None
    try:
        from retriever.answer import readers_on_demand
    except ImportError as exc:
        logger.warning("answer extractor not installed (%s): answers fall back to sentences", exc)
        return None
    readers = readers_on_demand(settings.reader)
    if settings.preload_readers:
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


def no_extractor(_settings: Settings) -> Extractor | None:
    """A factory for servers (and tests) that answer with the sentence fallback only."""
    return None
