"""The default answer extractor: span model answer plus the sentence that holds it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from retriever.answer.extra import further_answers
from retriever.answer.sentences import covering_sentence
from retriever.answer.types import (
    ONE_SPAN,
    WEIGHTS_DIR,
    AnswerExtractor,
    AnswerSpans,
    MultiSpanRule,
    SpanPrediction,
)
from retriever.types import Span

# Characters trimmed from the ends of an answer: word pieces keep attached punctuation
# such as a trailing comma or an opening bracket that no gold answer includes.
_TRIM = " \t\n\r,;:([{\u201c\u2018\"'\u3001\uff0c\uff1a\uff1b"
_TRIM_END = " \t\n\r,;:)]}\u201d\u2019\"'\u3001\uff0c\uff1a\uff1b\u3002"


class SpanPredictor(Protocol):
    """What the extractor needs from a span model (a fake one in logic tests)."""

    def predict(
        self,
        questions: list[str],
        passages: list[str],
        batch_size: int = 16,
        rule: MultiSpanRule = ONE_SPAN,
    ) -> list[SpanPrediction | None]:
        """Best span per (question, passage) pair, with the further spans ``rule`` lets
        through as its ``extra``; ``None`` for no span."""
        ...


def _trimmed(passage: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without the punctuation and spaces word pieces keep at its ends."""
    trimmed_start, trimmed_end = start, end
    while trimmed_start < trimmed_end and passage[trimmed_start] in _TRIM:
        trimmed_start += 1
    while trimmed_end > trimmed_start and passage[trimmed_end - 1] in _TRIM_END:
        trimmed_end -= 1
    if trimmed_start == trimmed_end:  # the span was punctuation only: keep it, not lose it
        return start, end
    return trimmed_start, trimmed_end


class SpanExtractor:
    """Answer extractor backed by a span model.

    Args:
        model: The loaded span model (``OnnxSpanModel``, or ``SpanModel`` in PyTorch).
        min_score: Spans scoring below this are reported as no answer (``answer=None``).
        batch_size: Encoder windows per forward pass.
        rule: How many answer spans a passage may give, and how probable the further ones
            must be; of the spans it lets through, those :mod:`retriever.answer.extra`
            accepts become :attr:`AnswerSpans.extra`.
    """

    def __init__(
        self,
        model: SpanPredictor,
        min_score: float = 0.0,
        batch_size: int = 16,
        rule: MultiSpanRule = ONE_SPAN,
    ) -> None:
        self._model = model
        self._min_score = min_score
        self._batch_size = batch_size
        self._rule = rule

    @property
    def model(self) -> SpanPredictor:
        """The span model it reads with."""
        return self._model

    def extract(self, question: str, passage: str) -> AnswerSpans:
        """Find the answer span of ``question`` in ``passage``.

        Args:
            question: The question, in any language (the model is trained on English).
            passage: One retrieved paragraph.

        Returns:
            Answer and sentence spans with offsets into ``passage``; ``answer`` is ``None``
            for an empty passage or a score under ``min_score``.
        """
        return self.extract_batch(question, [passage])[0]

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        """Like :meth:`extract` for several passages, batched through the encoder."""
        predictions = self._model.predict(
            [question] * len(passages), passages, batch_size=self._batch_size, rule=self._rule
        )
        return [self._to_spans(p, pred) for p, pred in zip(passages, predictions, strict=True)]

    def _to_spans(self, passage: str, pred: SpanPrediction | None) -> AnswerSpans:
        if pred is None or pred.prob < self._min_score:
            return AnswerSpans(answer=None, sentence=None, score=0.0)
        start, end = _trimmed(passage, pred.char_start, pred.char_end)
        s_start, s_end = covering_sentence(passage, start, end)
        candidates = [_trimmed(passage, e.char_start, e.char_end) for e in pred.extra]
        return AnswerSpans(
            answer=Span.of(passage, start, end),
            sentence=Span.of(passage, s_start, s_end),
            score=pred.prob,
            logit=pred.logit,
            extra=further_answers(passage, (start, end), (s_start, s_end), candidates),
        )


_LOCK = threading.Lock()
_LOADED: dict[tuple[Path, MultiSpanRule], SpanExtractor] = {}
READERS = ("auto", "minilm", "e5")


def load_default_extractor(
    weights_dir: Path = WEIGHTS_DIR, rule: MultiSpanRule = ONE_SPAN, threads: int | None = None
) -> AnswerExtractor:
    """Load the span model in ``weights_dir`` (once per process) and return its extractor.

    It reads on ONNX Runtime (``onnx_reader``); the first load of new weights exports
    their graph, with torch, once per machine (``reader_graph``).

    Args:
        weights_dir: The reader's weights.
        rule: How many answer spans a passage may give (one by default).
        threads: The reader's CPU threads (every core by default), as loaded first.

    Raises:
        WeightsMismatchError: The weights are missing or do not fit their base model.
    """
    from retriever.answer.onnx_reader import OnnxSpanModel

    with _LOCK:
        if (weights_dir, rule) not in _LOADED:
            # One model per weights directory, whatever the rules its extractors follow.
            model = next((e.model for (d, _), e in _LOADED.items() if d == weights_dir), None)
            _LOADED[weights_dir, rule] = SpanExtractor(
                model or OnnxSpanModel.load(weights_dir, threads), rule=rule
            )
        return _LOADED[weights_dir, rule]
