"""Ranking metrics over BEIR-style run and qrels dicts.

``run``: ``{query_id: {doc_id: score}}``; ``qrels``: ``{query_id: {doc_id: relevance}}``.
Queries without any relevant document are skipped, as in BEIR.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


def ranked_ids(scores: Mapping[str, float]) -> list[str]:
    """Document ids best first (ties by id, for determinism)."""
    return [doc for doc, _ in sorted(scores.items(), key=lambda p: (-p[1], p[0]))]


def recall_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {d for d, r in relevant.items() if r > 0}
    return len(wanted.intersection(ranking[:k])) / len(wanted) if wanted else 0.0


def all_found_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {d for d, r in relevant.items() if r > 0}
    return float(bool(wanted) and wanted.issubset(ranking[:k]))


def reciprocal_rank_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for position, doc in enumerate(ranking[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / position
    return 0.0


def ndcg_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(
        (2 ** relevant.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranking[:k])
    )
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def per_query(ranking: Sequence[str], relevant: Mapping[str, int]) -> dict[str, float]:
    """All metrics of one query."""
    return {
        "recall@1": recall_at(ranking, relevant, 1),
        "recall@5": recall_at(ranking, relevant, 5),
        "recall@10": recall_at(ranking, relevant, 10),
        "recall@20": recall_at(ranking, relevant, 20),
        "mrr@10": reciprocal_rank_at(ranking, relevant, 10),
        "ndcg@10": ndcg_at(ranking, relevant, 10),
    }


def evaluate_run(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean of :func:`per_query` over judged queries, plus ``n_queries``."""
    totals: dict[str, float] = {}
    n = 0
    for query_id, relevant in qrels.items():
        if not any(r > 0 for r in relevant.values()):
            continue
        n += 1
        for name, value in per_query(ranked_ids(run.get(query_id, {})), relevant).items():
            totals[name] = totals.get(name, 0.0) + value
    result = {name: value / n for name, value in totals.items()} if n else {}
    result["n_queries"] = n
    return result
