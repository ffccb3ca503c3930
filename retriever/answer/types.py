"""Value types and the extractor protocol of the answer-span extractor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from retriever.types import Span

#: The smaller reader (MiniLM base, English), the fallback where e5 cannot load.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: The default reader (e5 base, multilingual), all layers fine-tuned.
E5_WEIGHTS_DIR = WEIGHTS_DIR.with_name("weights_e5")


@dataclass(frozen=True)
class SpanPrediction:
    """Best answer span of one (question, passage) pair.

    Attributes:
        char_start: Start offset in the passage.
        char_end: End offset (exclusive) in the passage.
        prob: P(start) * P(end) under the model, in [0, 1].
        logit: The span's raw start + end logit: unlike ``prob``, not normalised within
            the passage, so it says how answer-like the span is on an absolute scale.
        extra: Further spans of the same passage that overlap neither this one nor each
            other and score at least :attr:`MultiSpanRule.min_ratio` times ``prob``,
            most probable first (each with no ``extra`` of its own); empty unless the
            rule allows more than one span.
    """

    char_start: int
    char_end: int
    prob: float
    logit: float = 0.0
    extra: tuple[SpanPrediction, ...] = ()


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
        logit: The span's raw start + end logit (see :class:`SpanPrediction`); 0.0 when
            ``answer`` is ``None``. A feature of the calibrated relevance.
        extra: Further answers of the same kind in the same sentence (the passage names
            two signers), in passage order; ``score`` and ``logit`` are ``answer``'s.
    """

    answer: Span | None
    sentence: Span | None
    score: float
    logit: float = 0.0
    extra: tuple[Span, ...] = ()


@dataclass(frozen=True)
class MultiSpanRule:
    """When a passage's answer is several spans, not one (see ``retriever.answer.extra``).

    Attributes:
        max_spans: Most answer spans per passage, the best one included; 1 turns it off.
        min_ratio: A further span needs at least this share of the best span's probability.
    """

    max_spans: int = 1
    min_ratio: float = 1.0

    def __post_init__(self) -> None:
        if self.max_spans < 1:
            raise ValueError(f"max_spans must be at least 1; got {self.max_spans}")
        if not 0.0 < self.min_ratio <= 1.0:
            raise ValueError(f"min_ratio must be in (0, 1]; got {self.min_ratio}")


#: One span per passage: the rule of callers that ask for none.
ONE_SPAN = MultiSpanRule()


class AnswerExtractor(Protocol):
    """Marks the answer to a question inside one passage."""

    def extract(self, question: str, passage: str) -> AnswerSpans:
        """Find the answer span of ``question`` in ``passage``."""
        ...

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        """Like :meth:`extract` for several passages, in one batched model call."""
        ...
