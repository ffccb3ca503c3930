"""Calibrated relevance: the chance that one passage answers the question, on its own.

The second stage's score is a softmax share among one question's candidates, so its top
hit is near 1 whether or not the documents hold the answer. Relevance instead reads
evidence on an absolute scale (raw cosines, the best sentence's term coverage, the share
of the question's terms the index lacks, the span reader's raw logit) and maps it to a
probability with a logistic model (Platt scaling), fitted by ``scripts/fit_relevance.py``
on questions of tuning articles, half of them asked of an index that lacks their article.
Two fitted models ship: ``search`` reads retrieval evidence only; ``answer`` adds the
reader's, for ``/v1/ask`` and chat.

Hand-written rather than sklearn at run time: applying a fitted logistic model is one
dot product, and the serve path should not import sklearn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retriever.rerank.signals import Signals

#: The shipped fit (``scripts/fit_relevance.py`` writes it).
MODEL_FILE = Path(__file__).resolve().parent / "relevance.json"

#: Evidence keys (besides the per-encoder ``dense:NAME`` and ``sentence:NAME``).
COVERAGE = "coverage"
BIGRAMS = "bigrams"
SECOND_STAGE = "second_stage"
RANK = "log_rank"
READER_LOGIT = "reader_logit"
READER_PROB = "reader_prob"
UNKNOWN_TERMS = "unknown_terms"

Evidence = Mapping[str, float]


def signal_evidence(
    signals: Signals | None, wanted: Collection[int]
) -> dict[int, dict[str, float]]:
    """Vector id -> the raw retrieval evidence of each ``wanted`` candidate (the hits
    returned, not every re-scored candidate); empty without signals."""
    if signals is None:
        return {}
    found: dict[int, dict[str, float]] = {}
    for row, vector_id in enumerate(signals.vector_ids.tolist()):
        if vector_id not in wanted:
            continue
        evidence = {
            COVERAGE: float(signals.coverage[row]),
            BIGRAMS: float(signals.bigrams[row]),
            UNKNOWN_TERMS: signals.unknown_terms,
        }
        for name, values in signals.dense.items():
            evidence[f"dense:{name}"] = float(values[row])
        for name, values in signals.sentence_dense.items():
            evidence[f"sentence:{name}"] = float(values[row])
        found[int(vector_id)] = evidence
    return found


def ranked_evidence(evidence: Evidence, rank: int, score: float) -> dict[str, float]:
    """``evidence`` plus the hit's rank (1-based) and second-stage score."""
    return {**evidence, RANK: math.log(rank), SECOND_STAGE: score}


def reader_evidence(evidence: Evidence, logit: float, prob: float) -> dict[str, float]:
    """``evidence`` plus the span reader's raw logit and in-passage probability."""
    return {**evidence, READER_LOGIT: logit, READER_PROB: prob}


@dataclass(frozen=True)
class RelevanceModel:
    """Logistic regression over standardised evidence: ``sigmoid(coef . z + intercept)``."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def __post_init__(self) -> None:
        sizes = {len(self.features), len(self.mean), len(self.scale), len(self.coef)}
        if len(sizes) != 1:
            raise ValueError("relevance model: features, mean, scale and coef differ in length")

    def applies_to(self, evidence: Evidence) -> bool:
        """Whether ``evidence`` has every feature this model reads."""
        return all(name in evidence for name in self.features)

    def probability(self, evidence: Evidence) -> float | None:
        """The calibrated relevance, or ``None`` when a feature is missing (another
        encoder set, no sentence vectors, a mode without the second stage)."""
        if not self.applies_to(evidence):
            return None
        x = np.asarray([evidence[name] for name in self.features], dtype=np.float64)
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        logit = float(z @ np.asarray(self.coef)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RelevanceModel:
        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(v) for v in raw[key])

        return cls(
            features=tuple(str(v) for v in raw["features"]),
            mean=floats("mean"),
            scale=floats("scale"),
            coef=floats("coef"),
            intercept=float(raw["intercept"]),
        )


@dataclass(frozen=True)
class Relevance:
    """The two fitted models and the answer threshold chosen with them.

    ``found_threshold`` is the relevance of the answer's passage below which an answer is
    not shown (the default of the ``found_min_relevance`` setting).
    """

    search: RelevanceModel
    answer: RelevanceModel
    found_threshold: float

    def to_json(self) -> dict[str, object]:
        return {
            "search": self.search.to_json(),
            "answer": self.answer.to_json(),
            "found_threshold": self.found_threshold,
        }


def load_relevance(path: Path = MODEL_FILE) -> Relevance:
    """Read the fitted models.

    Raises:
        OSError: The file cannot be read.
        ValueError: It is not a relevance fit.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    try:
        return Relevance(
            search=RelevanceModel.from_json(raw["search"]),
            answer=RelevanceModel.from_json(raw["answer"]),
            found_threshold=float(raw["found_threshold"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a relevance fit: {exc}") from exc
