"""What the second stage knows about each first-stage candidate, as raw per-passage numbers.

Everything is computed for the candidates only (tens of passages), from data stored at
index time: passage and sentence vectors of every encoder and BM25 statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors
from index.lifecycle.snapshot import IndexSnapshot
from retriever.rerank.terms import query_terms, sentence_terms
from retriever.single_query import one_faiss_thread
from retriever.types import Floats

Ids = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Signals:
    """Raw evidence for ``n`` candidate passages, each array of length ``n``."""

    vector_ids: Ids
    bm25: Floats  # BM25 of the passage (0 when it shares no term)
    dense: Mapping[str, Floats]  # encoder -> cosine of question and passage
    sentence_dense: Mapping[str, Floats]  # encoder -> cosine of question and best sentence
    coverage: Floats  # IDF-weighted share of question terms in the best sentence
    bigrams: Floats  # share of the question's adjacent term pairs in the best sentence
    # Coverage of the passage's second-best sentence by coverage (0 with one sentence):
    # a question is written from one sentence, so terms that every sentence repeats (the
    # passage's topic) single out none of them, while a lone peak does.
    runner_up_coverage: Floats
    # Share of the question's IDF weight in terms the index lacks (one per question).
    unknown_terms: float = 0.0


def _segment_max(values: Floats, owner: Ids, n: int) -> Floats:
    best = np.full(n, -np.inf)
    np.maximum.at(best, owner, values)
    best[~np.isfinite(best)] = 0.0
    return best


def _segment_second(values: Floats, owner: Ids, n: int) -> Floats:
    """Second-largest value per owner (0 for an owner with fewer than two values)."""
    second = np.zeros(n)
    if len(values) == 0:
        return second
    # By owner, largest value first: an owner's second row is its runner-up.
    order = np.lexsort((-values, owner))
    ranked_owner = owner[order]
    first_of = np.searchsorted(ranked_owner, ranked_owner, side="left")
    is_second = np.arange(len(order)) - first_of == 1
    second[ranked_owner[is_second]] = values[order][is_second]
    return second


def _scores_of(ranked: Sequence[tuple[int, float]], ids: Ids) -> Floats:
    found = dict(ranked)
    return np.asarray([found.get(int(v), 0.0) for v in ids], dtype=np.float64)


def collect_signals(
    snapshot: IndexSnapshot,
    question: str,
    query_vectors: Mapping[str, Vectors],
    candidates: Sequence[tuple[int, float]],
) -> Signals:
    """Gather the evidence on ``candidates`` (``(vector_id, fused score)``, best first).

    Args:
        snapshot: The generation the candidates come from.
        question: The question as asked.
        query_vectors: Encoder name -> the question's ``(1, d)`` vector, for every encoder
            of the index.
        candidates: First-stage ranking to re-score.
    """
    ids = np.asarray([vid for vid, _ in candidates], dtype=np.int64)
    n = len(ids)
    allowed = ids if n else None
    with one_faiss_thread():
        dense = {
            name: _scores_of(snapshot.dense[name].search(vector, n, allowed)[0], ids)
            for name, vector in query_vectors.items()
        }
    bm25 = _scores_of(snapshot.lexical.search(question, n, allowed), ids)

    rows = snapshot.sentences.rows_of(ids.tolist())
    position = {int(v): i for i, v in enumerate(ids)}
    owner = np.asarray([position[int(v)] for v in rows.vector_ids], dtype=np.int64)
    sentence_cos = {
        name: (rows.vectors[name] @ vector[0]).astype(np.float64)
        for name, vector in query_vectors.items()
    }
    passages = snapshot.store.passages_by_vector_id(ids.tolist())
    texts = [
        passages[int(v)].text[int(a) : int(b)]
        for v, (a, b) in zip(rows.vector_ids, rows.spans, strict=True)
    ]
    terms = query_terms(question, snapshot.lexical)
    lexical = sentence_terms(terms, texts)
    return Signals(
        vector_ids=ids,
        bm25=bm25,
        dense=dense,
        sentence_dense={k: _segment_max(v, owner, n) for k, v in sentence_cos.items()},
        coverage=_segment_max(lexical.coverage, owner, n),
        bigrams=_segment_max(lexical.bigrams, owner, n),
        runner_up_coverage=_segment_second(lexical.coverage, owner, n),
        unknown_terms=terms.unknown,
    )
