"""Adapter to the answer-span extractor of ``retriever.answer``, which may be absent.

The API depends only on :class:`~retriever.answer.types.AnswerExtractor`, so it runs
(with a clearly marked sentence fallback) when the span model's package or its weights
are not installed, and tests can inject a fake extractor.
"""

from __future__ import annotations

import logging

from retriever.answer.types import ONE_SPAN, AnswerExtractor, MultiSpanRule

logger = logging.getLogger(__name__)


def load_extractor(
    reader: str,
    preload: bool = False,
    rule: MultiSpanRule = ONE_SPAN,
    threads: int | None = None,
) -> AnswerExtractor | None:
    """The shipped span reader(s) ``reader``, or None (logged) when not installed.

    Each reader is loaded by the first question that needs it (its ONNX Runtime session),
    unless ``preload`` asks for all of them now; ``/health`` reports
    which are loaded (:func:`reader_status`). ``rule``: how many answer spans a passage
    may give (the further ones in :attr:`~retriever.answer.types.AnswerSpans.extra`);
    ``threads``: each reader's CPU threads (every core by default).
    """
    try:
        from retriever.answer.on_demand import readers_on_demand
    except ImportError as exc:
        logger.warning("answer extractor not installed (%s): answers fall back to sentences", exc)
        return None
    readers = readers_on_demand(reader, rule, threads)
    if preload:
        readers.load_all()
    return readers


def reader_status(extractor: AnswerExtractor | None) -> dict[str, str]:
    """Each reader's state (``on_demand``, ``loaded``, ``unavailable``) by name; an
    extractor that is not the shipped on-demand set counts as one loaded reader."""
    if extractor is None:
        return {}
    status = getattr(extractor, "status", None)
    if callable(status):
        return dict(status())
    return {"custom": "loaded"}
