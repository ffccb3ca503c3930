"""Adapter to the answer-span extractor of ``retriever.answer``, which may be absent.

The API depends only on :class:`~retriever.answer.types.AnswerExtractor`, so it runs
(with a clearly marked sentence fallback) when the span model's package or its weights
are not installed, and tests can inject a fake extractor.
"""

from __future__ import annotations

import logging

from retriever.answer.types import AnswerExtractor

logger = logging.getLogger(__name__)


def load_extractor(reader: str) -> AnswerExtractor | None:
    """The shipped span extractor ``reader``, or None (logged) when it is unavailable."""
    try:
        from retriever.answer.extractor import load_reader
    except ImportError as exc:
        logger.warning("answer extractor not installed (%s): answers fall back to sentences", exc)
        return None
    try:
        extractor = load_reader(reader)
    except Exception as exc:  # noqa: BLE001 - missing weights must not stop the server
        logger.warning("answer extractor unavailable (%s): answers fall back to sentences", exc)
        return None
    return extractor
