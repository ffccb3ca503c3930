"""Calibrated relevance on hits and the "not found" decision built on it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from retriever.answer.choice import Answer, AnswerKind
from retriever.answer.found import FoundRule
from retriever.answer.types import AnswerSpans
from retriever.relevance import (
    MODEL_FILE,
    READER_LOGIT,
    READER_PROB,
    Relevance,
    RelevanceModel,
    load_relevance,
    ranked_evidence,
    signal_evidence,
)
from retriever.rerank import LinearReranker
from retriever.searcher import Retriever
from retriever.types import Citation, Hit, Span
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever

SEARCH = RelevanceModel(
    features=("coverage", "second_stage"),
    mean=(0.5, 0.5),
    scale=(0.25, 0.5),
    coef=(2.0, 1.0),
    intercept=-1.0,
)
ANSWER = RelevanceModel(
    features=("coverage", "second_stage", READER_LOGIT, READER_PROB),
    mean=(0.5, 0.5, 5.0, 0.5),
    scale=(0.25, 0.5, 2.0, 0.25),
    coef=(2.0, 1.0, 1.5, 0.5),
    intercept=-1.0,
)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_probability_is_the_logistic_of_standardised_evidence() -> None:
    p = SEARCH.probability({"coverage": 1.0, "second_stage": 1.0, "unused": 9.0})
    assert p == pytest.approx(_sigmoid(2.0 * 2.0 + 1.0 * 1.0 - 1.0))
    # More evidence, more relevance; always inside [0, 1], even far out.
    low = SEARCH.probability({"coverage": 0.0, "second_stage": 1.0})
    assert low is not None and p is not None and low < p
    assert SEARCH.probability({"coverage": 1e9, "second_stage": 1e9}) == pytest.approx(1.0)
    assert SEARCH.probability({"coverage": -1e9, "second_stage": 0}) == pytest.approx(0.0)


def test_missing_evidence_gives_no_relevance() -> None:
    assert SEARCH.probability({"coverage": 1.0}) is None
    assert not SEARCH.applies_to({})


def test_model_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        RelevanceModel(("a", "b"), (0.0,), (1.0, 1.0), (1.0, 1.0), 0.0)


def test_fit_round_trips_through_json(tmp_path: Path) -> None:
    fit = Relevance(SEARCH, ANSWER, 0.42)
    path = tmp_path / "relevance.json"
    path.write_text(json.dumps(fit.to_json()), encoding="utf-8")
    assert load_relevance(path) == fit
    path.write_text(json.dumps({"search": {}}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a relevance fit"):
        load_relevance(path)


def test_shipped_fit_loads_and_covers_both_uses() -> None:
    fit = load_relevance(MODEL_FILE)
    assert 0 < fit.found_threshold < 1
    # The answer model reads what search reads plus the reader's evidence.
    assert set(fit.search.features) < set(fit.answer.features)
    assert {READER_LOGIT, READER_PROB} <= set(fit.answer.features)


def _hit(rank: int, coverage: float) -> Hit:
    text = "Alice and Bob signed the treaty."
    cite = Citation(f"doc{rank}", "t", "s", 0, 0, len(text))
    evidence = ranked_evidence({"coverage": coverage}, rank, 1.0 / rank)
    return Hit(rank, 1.0 / rank, f"doc{rank}#0", text, cite, evidence=evidence)


def _answer(passage: int) -> Answer:
    span = Span("Alice", 0, 5)
    return Answer("Alice", AnswerKind.EXTRACTED, 0.3, passage, "doc", span, (span,))


def test_found_rule_uses_the_answer_passage_relevance() -> None:
    rule = FoundRule(min_relevance=0.5, relevance=ANSWER)
    spans = AnswerSpans(Span("Alice", 0, 5), None, 0.9, logit=9.0)
    strong = rule.judge(_hit(1, 1.0), spans)
    weak = rule.judge(_hit(2, 0.0), AnswerSpans(Span("Alice", 0, 5), None, 0.2, logit=1.0))
    assert strong.relevance is not None and strong.relevance > 0.5
    assert weak.relevance is not None and weak.relevance < 0.5
    hits = (strong, weak)
    assert rule.found(_answer(0), hits)
    assert not rule.found(_answer(1), hits)
    # A fallback sentence is never a found answer.
    x = Span("x", 0, 1)
    sentence = Answer("x", AnswerKind.SENTENCE, 0.0, 0, "doc", x, (x,))
    assert not rule.found(sentence, hits)
    assert not rule.found(None, hits)


def test_found_rule_falls_back_to_the_reader_score_without_evidence() -> None:
    rule = FoundRule(min_relevance=0.99, min_score=0.25, relevance=ANSWER)
    bare = Hit(1, 1.0, "d#0", "Alice.", Citation("d", "t", "s", 0, 0, 6))
    judged = rule.judge(bare, AnswerSpans(Span("Alice", 0, 5), None, 0.3, logit=1.0))
    assert judged.relevance is None
    assert rule.found(_answer(0), (judged,))  # 0.3 >= min_score
    assert not FoundRule(min_score=0.5, relevance=ANSWER).found(_answer(0), (judged,))


def test_search_hits_carry_evidence_and_relevance(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    plain = open_retriever(tmp_path / "idx", encoder)
    fit = load_relevance(MODEL_FILE)
    features = tuple(f for f in fit.search.features if ":" not in f) + (
        f"dense:{encoder.name}",
        f"sentence:{encoder.name}",
    )
    n = len(features)
    model = RelevanceModel(features, (0.0,) * n, (1.0,) * n, (1.0,) * n, intercept=0.0)
    assert n == len(fit.search.features) - 2  # the shipped fit reads two encoders
    retriever = Retriever(plain.handle, plain.encoders, plain.options, LinearReranker(), model)
    result = retriever.search("Who signed the agreement?", k=3)
    assert result.hits
    for hit in result.hits:
        assert {"coverage", "bigrams", "log_rank", "second_stage"} <= set(hit.evidence)
        assert hit.evidence["log_rank"] == pytest.approx(math.log(hit.rank))
        assert hit.relevance == pytest.approx(model.probability(hit.evidence))
    # Without the second stage there are no signals: no relevance rather than a guess.
    bare = Retriever(plain.handle, plain.encoders, plain.options, None, model)
    assert all(h.relevance is None for h in bare.search("Who signed the agreement?", k=3).hits)


def test_signal_evidence_without_signals_is_empty() -> None:
    assert signal_evidence(None, {1, 2}) == {}
