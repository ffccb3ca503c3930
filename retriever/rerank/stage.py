"""The second stage: re-score the fused top candidates with sharper evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.encoders.base import Vectors
from index.lifecycle.snapshot import IndexSnapshot
from index.models import Ranked
from retriever.rerank.cross import PairScorer
from retriever.rerank.features import feature_matrix
from retriever.rerank.model import LinearModel, shipped_model
from retriever.rerank.signals import Signals, collect_signals


@dataclass(frozen=True)
class Rescored:
    """The second stage's ranking and, where it gathered them, the raw signals behind it
    (which the calibrated relevance reads; ``None`` for a stage that has none)."""

    ranked: Ranked
    signals: Signals | None = None


class Reranker(Protocol):
    """Re-orders first-stage candidates; returns ``(vector_id, score)`` best first."""

    def rescore(
        self,
        snapshot: IndexSnapshot,
        question: str,
        query_vectors: Mapping[str, Vectors],
        candidates: Sequence[tuple[int, float]],
    ) -> Rescored: ...


def _ordered(ids: Sequence[int], scores: Sequence[float]) -> Ranked:
    # Stable on the first-stage order, so equal scores keep the fused ranking.
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return [(int(ids[i]), float(scores[i])) for i in order]


class LinearReranker:
    """Passage and best-sentence evidence weighed by a linear model.

    The features (:mod:`retriever.rerank.features`): passage BM25 and cosine, the best
    sentence's cosine under every encoder, its IDF-weighted coverage of the question's
    terms and of their adjacent pairs, and the runner-up sentence's coverage. Scores are
    each candidate's softmax share among the re-scored candidates.
    """

    def __init__(
        self,
        model: LinearModel | None = None,
        encoder_weights: Mapping[str, float] | None = None,
    ) -> None:
        # None: the shipped model fitted for the index's kind of sentence vector, chosen
        # per snapshot (a pooled and an encoded index weigh their evidence differently).
        self.model = model
        self.encoder_weights = dict(encoder_weights or {})  # name -> weight, default 1.0

    def rescore(
        self,
        snapshot: IndexSnapshot,
        question: str,
        query_vectors: Mapping[str, Vectors],
        candidates: Sequence[tuple[int, float]],
    ) -> Rescored:
        # Without sentence vectors (an index built by the fast profile) the best-sentence
        # signal is missing: the fused order is kept rather than ranking on a hole.
        if not candidates or not snapshot.manifest.sentence_vectors:
            return Rescored(list(candidates))
        signals = collect_signals(snapshot, question, query_vectors, candidates)
        features = feature_matrix(signals, self.encoder_weights)
        model = self.model or shipped_model(snapshot.manifest.sentence_pooling)
        probabilities = model.probabilities(features)
        return Rescored(_ordered([vid for vid, _ in candidates], probabilities.tolist()), signals)


class CrossEncoderReranker:
    """A cross-encoder's score of each ``(question, passage)`` pair decides the order."""

    def __init__(self, scorer: PairScorer) -> None:
        self.scorer = scorer

    def rescore(
        self,
        snapshot: IndexSnapshot,
        question: str,
        query_vectors: Mapping[str, Vectors],
        candidates: Sequence[tuple[int, float]],
    ) -> Rescored:
        if len(candidates) < 2:
            return Rescored(list(candidates))
        ids = [vid for vid, _ in candidates]
        passages = snapshot.store.passages_by_vector_id(ids)
        scores = self.scorer.score(question, [passages[vid].text for vid in ids])
        return Rescored(_ordered(ids, scores.tolist()))
