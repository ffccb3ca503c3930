"""SQuAD v1.1 answer normalisation and EM / F1, re-exported from the product package.

``docqa eval`` scores a user's own questions with the same functions, so they live in
:mod:`retriever.answer.metrics`; this module keeps the lab scripts' import path.
"""

from __future__ import annotations

from retriever.answer.metrics import (
    exact_match,
    f1_score,
    max_over_ground_truths,
    normalize_answer,
)

__all__ = ["exact_match", "f1_score", "max_over_ground_truths", "normalize_answer"]
