"""Value types and the extractor protocol of the answer-span extractor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from retriever.types import Span


@dataclass(frozen=True)
class AnswerSpans:
    """The answer found in one passage (spans of the passage as the extractor returns
    them; of the document text once :mod:`retriever.answer.choice` adds its offset).

    Attributes:
        answer: The short answer (entity or phrase), ``None`` if nothing was found.
        sentence: The sentence(s) of the passage that contain the answer.
        score: Model confidence ``P(start) * P(end)`` in [0, 1], normalised within the
            passage (so it compares spans of one passage; across passages it is a usable
            but uncalibrated ranking signal). 0.0 when ``answer`` is ``None``.
    """

    answer: Span | None
    sentence: Span | None
    score: float


class AnswerExtractor(Protocol):
    """Marks the answer to a question inside one passage."""

    def extract(self, question: str, passage: str) -> AnswerSpans:
        """Find the answer span of ``question`` in ``passage``."""
        ...

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        """Like :meth:`extract` for several passages, in one batched model call."""
        ...
