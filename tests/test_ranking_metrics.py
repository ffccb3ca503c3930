"""scripts/lab/ranking.py: BEIR-style runs scored by ir-measures, on hand-checked cases."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("ir_measures", reason="ir-measures is a dev dependency (pip install -e .[dev])")

from scripts.lab.ranking import all_found_at, evaluate_run, recall_curve  # noqa: E402

QRELS = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"z": 1}, "unjudged": {"a": 0}}
RUN = {
    "q1": {"a": 3.0, "x": 2.0, "y": 1.0},  # relevant at rank 1
    "q2": {"x": 3.0, "b": 2.0, "c": 1.0},  # both relevant, at ranks 2 and 3
    # q3 is missing from the run: it counts 0, as in the hand-written metrics before
}


def test_recall_mrr_and_linear_gain_ndcg() -> None:
    found = evaluate_run(RUN, QRELS)
    assert found["n_queries"] == 3  # the query without a relevant document is skipped
    assert found["recall@1"] == pytest.approx((1 + 0 + 0) / 3)
    assert found["recall@5"] == pytest.approx((1 + 1 + 0) / 3)
    assert found["mrr@10"] == pytest.approx((1 + 1 / 2 + 0) / 3)
    ndcg_q2 = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert found["ndcg@10"] == pytest.approx((1 + ndcg_q2 + 0) / 3)


def test_all_found_counts_only_queries_with_several_relevant() -> None:
    assert all_found_at(RUN, QRELS, 3) == 1.0  # q2 finds b and c in its top 3
    assert all_found_at(RUN, QRELS, 2) == 0.0
    assert all_found_at({"q1": {"a": 1.0}}, {"q1": {"a": 1}}, 10) is None


def test_recall_curve_rises_with_depth() -> None:
    assert recall_curve(RUN, QRELS, 3) == pytest.approx([1 / 3, 1.5 / 3, 2 / 3])
