"""Score half-index answer runs (``answer_runs``): relevance fit, calibration, found rule.

``fit_model`` fits the logistic relevance model (sklearn) over every hit; ``report``
scores a fitted :class:`retriever.relevance.Relevance` on runs: answered share and F1 of
answerable questions, wrongly-answered share of unanswerable ones, and the expected
calibration error of both relevance models. Lab code (sklearn is not a serve
dependency).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from lab.answer_runs import HitRun, QuestionRun
from retriever.relevance import (
    RelevanceModel,
    reader_evidence,
)

ECE_BINS = 10


def hit_evidence(hit: HitRun, with_reader: bool) -> dict[str, float]:
    """The evidence the search (reader off) or answer (reader on) model reads."""
    if not with_reader or hit.answer is None:
        return dict(hit.evidence)
    return reader_evidence(hit.evidence, hit.reader_logit, hit.reader_prob)


def fit_model(
    runs: Sequence[QuestionRun], features: Sequence[str], c: float = 1.0
) -> RelevanceModel:
    """Logistic regression of "this hit is the gold paragraph" on ``features``."""
    from sklearn.linear_model import LogisticRegression

    with_reader = any(f.startswith("reader_") for f in features)
    rows, labels = [], []
    for run in runs:
        for hit in run.hits:
            evidence = hit_evidence(hit, with_reader)
            if all(f in evidence for f in features):
                rows.append([evidence[f] for f in features])
                labels.append(int(hit.relevant))
    x = np.asarray(rows, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    model = LogisticRegression(C=c, max_iter=1000).fit((x - mean) / scale, np.asarray(labels))
    return RelevanceModel(
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in model.coef_[0]),
        intercept=float(model.intercept_[0]),
    )


def calibration(probabilities: Sequence[float], labels: Sequence[int]) -> dict[str, Any]:
    """Expected calibration error over ``ECE_BINS`` equal-width bins, and the bins."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    bins = []
    ece = 0.0
    for b in range(ECE_BINS):
        lo, hi = b / ECE_BINS, (b + 1) / ECE_BINS
        inside = (p >= lo) & ((p < hi) if b < ECE_BINS - 1 else (p <= hi))
        n = int(inside.sum())
        if n == 0:
            continue
        mean_p, rate = float(p[inside].mean()), float(y[inside].mean())
        ece += n / max(len(p), 1) * abs(mean_p - rate)
        bins.append({"lo": lo, "hi": hi, "n": n, "mean_relevance": mean_p, "relevant_rate": rate})
    return {"ece": ece, "n": len(p), "bins": bins}


def relevances(
    runs: Sequence[QuestionRun], model: RelevanceModel, with_reader: bool
) -> tuple[list[float], list[int]]:
    """Every hit's relevance under ``model`` and its label."""
    probs, labels = [], []
    for run in runs:
        for hit in run.hits:
            p = model.probability(hit_evidence(hit, with_reader))
            if p is not None:
                probs.append(p)
                labels.append(int(hit.relevant))
    return probs, labels


def answer_hit(run: QuestionRun, model: RelevanceModel | None = None) -> int | None:
    """The hit the answer comes from: the best-ranked one with an answer (as
    ``retriever.answer.choice.choose_answer`` does), or, given ``model``, the one whose
    answer relevance is highest."""
    with_answer = [i for i, h in enumerate(run.hits) if h.answer is not None]
    if not with_answer:
        return None
    if model is None:
        return with_answer[0]
    return max(with_answer, key=lambda i: model.probability(hit_evidence(run.hits[i], True)) or 0.0)


def answer_relevance(run: QuestionRun, model: RelevanceModel, by_relevance: bool = False) -> float:
    index = answer_hit(run, model if by_relevance else None)
    if index is None:
        return 0.0
    return model.probability(hit_evidence(run.hits[index], True)) or 0.0


def found_rates(
    runs: Sequence[QuestionRun],
    model: RelevanceModel,
    threshold: float,
    by_relevance: bool = False,
) -> dict[str, float]:
    """Answered share and F1/EM of answerable questions; wrongly answered unanswerable.

    ``by_relevance``: the answer comes from the hit of highest answer relevance rather
    than the best-ranked hit with an answer.
    """
    answerable = [r for r in runs if r.answerable]
    other = [r for r in runs if not r.answerable]
    answered = em = f1 = 0.0
    chooser = model if by_relevance else None
    for run in answerable:
        index = answer_hit(run, chooser)
        if index is not None and answer_relevance(run, model, by_relevance) >= threshold:
            answered += 1
            em += run.em(index)
            f1 += run.f1(index)
    wrong = sum(answer_relevance(r, model, by_relevance) >= threshold for r in other)
    n = max(len(answerable), 1)
    return {
        "threshold": threshold,
        "answerable": len(answerable),
        "unanswerable": len(other),
        "answered_share": answered / n,
        "em_all_answerable": 100 * em / n,
        "f1_all_answerable": 100 * f1 / n,
        "f1_answered": 100 * f1 / max(answered, 1),
        "em_answered": 100 * em / max(answered, 1),
        "unanswerable_answered_share": wrong / max(len(other), 1),
    }


def choose_threshold(
    runs: Sequence[QuestionRun],
    model: RelevanceModel,
    max_wrong: float,
    by_relevance: bool = False,
) -> float:
    """The lowest threshold that answers at most ``max_wrong`` of unanswerable questions."""
    other = sorted(
        (answer_relevance(r, model, by_relevance) for r in runs if not r.answerable),
        reverse=True,
    )
    allowed = int(max_wrong * len(other))  # this many may pass
    if allowed >= len(other):
        return 0.0
    # Just above the (allowed+1)-th highest unanswerable relevance.
    return float(np.nextafter(other[allowed], 1.0))


def report(
    runs: Sequence[QuestionRun],
    search: RelevanceModel,
    answer: RelevanceModel,
    threshold: float,
    max_wrong: float | None = None,
) -> dict[str, Any]:
    """Everything the fit and the evaluation print."""
    s_probs, s_labels = relevances(runs, search, with_reader=False)
    a_probs, a_labels = relevances(runs, answer, with_reader=True)
    # The alternative choice (the hit of highest answer relevance), at its own threshold.
    alt_threshold = (
        threshold
        if max_wrong is None
        else choose_threshold(runs, answer, max_wrong, by_relevance=True)
    )
    answerable = [r for r in runs if r.answerable]
    top1 = sum(any(h.relevant for h in r.hits[:1]) for r in answerable)
    topk = sum(any(h.relevant for h in r.hits) for r in answerable)
    seconds = sorted(r.seconds for r in runs)
    return {
        "questions": len(runs),
        "gold_at_1": top1 / max(len(answerable), 1),
        "gold_in_top_k": topk / max(len(answerable), 1),
        **found_rates(runs, answer, threshold),
        "answer_by_relevance": found_rates(runs, answer, alt_threshold, by_relevance=True),
        "search_relevance_calibration": calibration(s_probs, s_labels),
        "answer_relevance_calibration": calibration(a_probs, a_labels),
        "p50_ms": 1000 * seconds[len(seconds) // 2] if seconds else None,
    }


def save_runs(runs: Sequence[QuestionRun], path: Path) -> None:
    """JSON lines, one question per line (so a refit needs no model run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for run in runs:
            handle.write(json.dumps(asdict(run), ensure_ascii=False) + "\n")


def load_runs(path: Path) -> list[QuestionRun]:
    runs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            hits = tuple(HitRun(**h) for h in raw.pop("hits"))
            raw["answers"] = tuple(raw["answers"])
            runs.append(QuestionRun(**raw, hits=hits))
    return runs
