"""Turn raw :class:`Signals` into the feature matrix of the linear second stage.

Raw scores are not comparable across questions (a long question has a larger BM25) nor
across encoders (e5 cosines crowd into 0.7-0.9, MiniLM's spread over 0-0.8), so each
score is standardised among the question's own candidates before it is weighed. The
encoders are then averaged with their fusion weights (``DOCQA_DENSE_WEIGHT``,
``DOCQA_E5_WEIGHT``), so one setting says how far each encoder is trusted in both stages,
and the features, and the fitted weights, keep their meaning for whichever encoders an
index is built with.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from retriever.rerank.signals import Signals
from retriever.types import Floats

#: Column order of :func:`feature_matrix`, and the keys of the model's weights.
FEATURE_NAMES = ("bm25", "dense", "sentence_dense", "coverage", "bigrams", "runner_up_coverage")


def standardise(values: Floats) -> Floats:
    """Distance from the best candidate in standard deviations (0 for the best, <= 0)."""
    if len(values) == 0:
        return values
    spread = float(values.std())
    return (values - values.max()) / spread if spread > 1e-9 else np.zeros_like(values)


def _weighted_standardised(
    by_encoder: Mapping[str, Floats], weights: Mapping[str, float], n: int
) -> Floats:
    found = [(weights.get(name, 1.0), values) for name, values in by_encoder.items()]
    total = sum(w for w, _ in found if w > 0)
    if total <= 0:
        return np.zeros(n)
    return np.asarray(sum(w * standardise(v) for w, v in found if w > 0) / total)


def feature_matrix(signals: Signals, encoder_weights: Mapping[str, float] | None = None) -> Floats:
    """``(n, len(FEATURE_NAMES))`` features of the candidates in ``signals``.

    Args:
        signals: The candidates' raw evidence.
        encoder_weights: Encoder name -> its weight in the dense features (default 1.0).

    Coverage (of the best and of the runner-up sentence) and bigram overlap are shares in
    [0, 1] already and stay as they are: a sentence holding every question term is strong
    evidence whatever the others hold.
    """
    n = len(signals.vector_ids)
    weights = encoder_weights or {}
    columns = {
        "bm25": standardise(signals.bm25),
        "dense": _weighted_standardised(signals.dense, weights, n),
        "sentence_dense": _weighted_standardised(signals.sentence_dense, weights, n),
        "coverage": signals.coverage,
        "bigrams": signals.bigrams,
        "runner_up_coverage": signals.runner_up_coverage,
    }
    return np.column_stack([columns[name] for name in FEATURE_NAMES]).reshape(n, len(FEATURE_NAMES))
