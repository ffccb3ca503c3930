"""Answer-span extraction: mark the answer and its sentence inside one passage."""

from __future__ import annotations

from retriever.answer.extractor import READERS, SpanExtractor, load_default_extractor, load_reader
from retriever.answer.on_demand import Readers, ReaderState, readers_on_demand
from retriever.answer.types import AnswerExtractor, AnswerSpans, Span
from retriever.errors import WeightsMismatchError

__all__ = [
    "READERS",
    "ReaderState",
    "Readers",
    "AnswerExtractor",
    "AnswerSpans",
    "Span",
    "SpanExtractor",
    "WeightsMismatchError",
    "load_default_extractor",
    "load_reader",
    "readers_on_demand",
]
