"""Ask questions of an index that holds only half of their articles, and keep what
every hit looked like: the data the relevance fit and the answer evaluation read.

The articles (sorted titles) are dealt into two halves, alternately. Run ``h`` indexes
the paragraphs of half ``h`` only and asks every question of every article: questions of
the other half are unanswerable there. Each question is searched as ``/v1/ask`` does
(hybrid, second stage, top ``k``) and every hit is read by the span reader.
Lab code: run from the repository root through a script under ``scripts/``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import beir

from lab.squad_metrics import max_over_ground_truths


@dataclass(frozen=True)
class HitRun:
    """One hit of one question: is it the gold paragraph, and what the reader found."""

    doc_id: str
    relevant: bool
    evidence: dict[str, float]
    answer: str | None
    reader_prob: float
    reader_logit: float


@dataclass(frozen=True)
class QuestionRun:
    """One question asked of one half-index."""

    query_id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool  # its article is in the index
    half: int
    hits: tuple[HitRun, ...]
    seconds: float  # search + reading

    def f1(self, hit: int) -> float:
        """Token F1 of hit ``hit``'s answer against the gold answers."""
        text = self.hits[hit].answer or ""
        return float(max_over_ground_truths(text, list(self.answers), exact=False))

    def em(self, hit: int) -> float:
        text = self.hits[hit].answer or ""
        return float(max_over_ground_truths(text, list(self.answers), exact=True))


def halves(titles: Sequence[str]) -> tuple[list[str], list[str]]:
    """Sorted titles dealt alternately into two halves."""
    ordered = sorted(set(titles))
    return ordered[0::2], ordered[1::2]


def _article_of(dataset: beir.Dataset) -> dict[str, str]:
    return {doc_id: title for doc_id, (title, _text) in dataset.corpus.items()}


def questions_of(dataset: beir.Dataset, titles: Sequence[str]) -> list[beir.Query]:
    """The questions whose relevant paragraph belongs to one of ``titles``."""
    article = _article_of(dataset)
    wanted = set(titles)
    return [
        q
        for q in dataset.queries
        if any(article[d] in wanted for d in dataset.qrels.get(q.query_id, {}))
    ]


def half_index(
    dataset: beir.Dataset, titles: Sequence[str], cache_dir: Path, settings: Any, encoders: Any
) -> Path:
    """An index of the paragraphs of ``titles`` (built once, cached by titles and encoders)."""
    from evaluate import build_index, encoder_label

    from index.lifecycle.generation import current_generation

    names = "+".join(encoder_label(e) for e in encoders)
    if settings.sentence_pooling:
        names += "|pooled-sentences"
    key = hashlib.sha1(("|".join(sorted(titles)) + "#" + names).encode()).hexdigest()[:12]
    index_dir = cache_dir / f"half-{key}"
    if current_generation(index_dir) is None:
        wanted = set(titles)
        part = beir.Dataset(
            dataset.name,
            {d: v for d, v in dataset.corpus.items() if v[0] in wanted},
            [],
            {},
        )
        build_index(
            part,
            index_dir,
            encoders,
            settings.batch_size,
            settings.sentence_vectors,
            settings.sentence_pooling,
        )
    return index_dir


def run_half(
    dataset: beir.Dataset,
    titles: Sequence[str],
    half: int,
    cache_dir: Path,
    settings: Any,
    encoders: Any,
    extractor: Any,
    top_k: int,
    limit: int | None = None,
    progress: Any = None,
    distractors: Sequence[str] = (),
) -> list[QuestionRun]:
    """Index half ``half`` of ``titles`` (plus the ``distractors`` articles, whose
    questions are not asked) and ask every question of ``titles``."""
    from docqa.wiring import load_retriever
    from retriever.answer.choice import all_spans
    from retriever.types import Mode

    indexed = halves(titles)[half]
    index_dir = half_index(dataset, [*indexed, *distractors], cache_dir, settings, encoders)
    retriever = load_retriever(settings.model_copy(update={"index_dir": index_dir}), encoders)
    in_index = set(indexed)
    article = _article_of(dataset)
    questions = questions_of(dataset, titles)[:limit]
    runs: list[QuestionRun] = []
    for query in progress(questions) if progress else questions:
        started = time.perf_counter()
        result = retriever.search(query.text, top_k, Mode.HYBRID)
        spans = all_spans(extractor, query.text, result.hits)
        seconds = time.perf_counter() - started
        gold = dataset.qrels.get(query.query_id, {})
        hits = []
        for hit, found in zip(result.hits, spans, strict=True):
            doc_id = hit.citation.document_id
            hits.append(
                HitRun(
                    doc_id=doc_id,
                    relevant=gold.get(doc_id, 0) > 0,
                    evidence=dict(hit.evidence),
                    answer=found.answer.text if found.answer is not None else None,
                    reader_prob=found.score,
                    reader_logit=found.logit,
                )
            )
        answerable = any(article[d] in in_index for d in gold)
        runs.append(
            QuestionRun(
                query.query_id,
                query.text,
                query.answers,
                answerable,
                half,
                tuple(hits),
                seconds,
            )
        )
    return runs
