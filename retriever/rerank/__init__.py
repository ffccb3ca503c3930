"""Second ranking stage: re-score the fused top candidates (linear model or cross-encoder)."""

from retriever.rerank.cross import CrossEncoderScorer, PairScorer
from retriever.rerank.features import FEATURE_NAMES, feature_matrix
from retriever.rerank.model import ENCODED_MODEL, POOLED_MODEL, LinearModel, shipped_model
from retriever.rerank.signals import Signals, collect_signals
from retriever.rerank.stage import CrossEncoderReranker, LinearReranker, Reranker

__all__ = [
    "ENCODED_MODEL",
    "FEATURE_NAMES",
    "CrossEncoderReranker",
    "CrossEncoderScorer",
    "LinearModel",
    "LinearReranker",
    "POOLED_MODEL",
    "PairScorer",
    "Reranker",
    "Signals",
    "collect_signals",
    "feature_matrix",
    "shipped_model",
]
