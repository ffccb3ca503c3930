"""Ranking metrics over BEIR-style run and qrels dicts, computed by ir-measures (trec_eval).

``run``: ``{query_id: {doc_id: score}}``; ``qrels``: ``{query_id: {doc_id: relevance}}``.
Queries without any relevant document are skipped, as in BEIR; a judged query missing
from the run counts 0 (trec_eval itself would leave it out). nDCG is trec_eval's
(``ndcg_cut``: linear gain), as BEIR reports it.
"""

from __future__ import annotations

from collections.abc import Mapping

import ir_measures
from ir_measures import RR, R, nDCG

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]

MEASURES = {
    "recall@1": R @ 1,
    "recall@5": R @ 5,
    "recall@10": R @ 10,
    "recall@20": R @ 20,
    "mrr@10": RR @ 10,
    "ndcg@10": nDCG @ 10,
}


def ranked_ids(scores: Mapping[str, float]) -> list[str]:
    """Document ids best first (ties by id, for determinism)."""
    return [doc for doc, _ in sorted(scores.items(), key=lambda p: (-p[1], p[0]))]


def judged(qrels: Qrels) -> dict[str, dict[str, int]]:
    """The queries with at least one relevant document."""
    return {q: dict(rel) for q, rel in qrels.items() if any(r > 0 for r in rel.values())}


def per_query(
    run: Run, qrels: Qrels, measures: Mapping[str, object] = MEASURES
) -> dict[str, dict[str, float]]:
    """``measures`` (name -> ir-measures measure) of every judged query."""
    relevant = judged(qrels)
    found = {q: dict.fromkeys(measures, 0.0) for q in relevant}
    names = {measure: name for name, measure in measures.items()}
    evaluator = ir_measures.evaluator(list(measures.values()), relevant)
    for metric in evaluator.iter_calc({q: dict(s) for q, s in run.items() if q in found}):
        found[metric.query_id][names[metric.measure]] = float(metric.value)
    return found


def evaluate_run(run: Run, qrels: Qrels) -> dict[str, float]:
    """Mean of every measure over judged queries, plus ``n_queries``."""
    rows = per_query(run, qrels)
    result: dict[str, float] = {}
    if rows:
        result = {name: sum(r[name] for r in rows.values()) / len(rows) for name in MEASURES}
    result["n_queries"] = len(rows)
    return result


def all_found_at(run: Run, qrels: Qrels, k: int) -> float | None:
    """Share of the queries with several relevant documents that find all of them in the
    top ``k`` (recall@k == 1); None when no query has several."""
    several = {q: rel for q, rel in judged(qrels).items() if sum(r > 0 for r in rel.values()) > 1}
    if not several:
        return None
    rows = per_query(run, several, {"recall": R @ k})
    return sum(row["recall"] == 1.0 for row in rows.values()) / len(rows)


def recall_curve(run: Run, qrels: Qrels, depth: int) -> list[float]:
    """Mean recall@k for k = 1..depth."""
    measures = {str(k): R @ k for k in range(1, depth + 1)}
    rows = per_query(run, qrels, measures)
    return [sum(r[str(k)] for r in rows.values()) / max(1, len(rows)) for k in range(1, depth + 1)]
