"""The linear second-stage model: weights over :data:`FEATURE_NAMES`, fitted pairwise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from retriever.rerank.features import FEATURE_NAMES
from retriever.types import Floats


@dataclass(frozen=True)
class LinearModel:
    """``utility = sum_f weights[f] * feature_f``, higher is better.

    The weights come from a pairwise logistic regression (a relevant passage against
    each irrelevant one of the same question), so ``exp(utility)`` is a relative odds
    and a softmax over one question's candidates is the chance that each is the one.
    """

    weights: Mapping[str, float]

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown features {sorted(unknown)}; known: {FEATURE_NAMES}")

    def utilities(self, features: Floats) -> Floats:
        """One utility per row of a ``(n, len(FEATURE_NAMES))`` feature matrix."""
        w = np.asarray([self.weights.get(name, 0.0) for name in FEATURE_NAMES])
        return np.asarray(features @ w, dtype=np.float64)

    def probabilities(self, features: Floats) -> Floats:
        """Softmax of the utilities: each candidate's chance of being the relevant one."""
        utilities = self.utilities(features)
        if len(utilities) == 0:
            return utilities
        shifted = np.exp(utilities - utilities.max())  # no overflow, same ratios
        return np.asarray(shifted / shifted.sum(), dtype=np.float64)


#: Fitted by ``scripts/fit_rerank.py`` on the tuning split of SQuAD v1.1 dev (two thirds
#: of the articles, ``scripts/tuning_split.py``), one model per kind of sentence vector,
#: which an index's manifest records; see docs/benchmarks.md for the figures.
#: Sentences encoded on their own (``DOCQA_SENTENCE_POOLING=false``, and indexes built
#: before pooling).
ENCODED_MODEL = LinearModel(
    weights={
        "bm25": 0.936,
        "dense": 1.002,
        "sentence_dense": 1.299,
        "coverage": 2.17,
        "bigrams": 3.06,
        "runner_up_coverage": -2.948,
    }
)
#: Sentences pooled from the passage pass (``DOCQA_SENTENCE_POOLING``). A pooled sentence
#: vector already carries its passage's context, so the passage cosine adds nothing to it.
POOLED_MODEL = LinearModel(
    weights={
        "bm25": 0.833,
        "dense": -0.296,
        "sentence_dense": 2.38,
        "coverage": 3.344,
        "bigrams": 3.311,
        "runner_up_coverage": -2.621,
    }
)


def shipped_model(sentence_pooling: bool) -> LinearModel:
    """The fitted model for an index whose sentence vectors were pooled or encoded alone."""
    return POOLED_MODEL if sentence_pooling else ENCODED_MODEL
