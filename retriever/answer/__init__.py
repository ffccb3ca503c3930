"""Answer-span extraction: mark the answer and its sentence inside one passage."""

from __future__ import annotations

from retriever.answer.extractor import READERS, SpanExtractor, load_default_extractor, load_reader
from retriever.answer.types import AnswerExtractor, AnswerSpans, Span
from retriever.answer.weights_io import WeightsMismatchError

__all__ = [
    "READERS",
    "AnswerExtractor",
    "AnswerSpans",
    "Span",
    "SpanExtractor",
    "WeightsMismatchError",
    "load_default_extractor",
    "load_reader",
]
