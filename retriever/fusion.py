"""Combine ranked lists from several retrievers."""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[int, float]]


def reciprocal_rank_fusion(
    rankings: Sequence[Ranked], weights: Sequence[float], k: int = 60
) -> list[tuple[int, float]]:
    """Weighted RRF (Cormack et al. 2009): ``sum_i w_i / (k + rank_i)``, best first.

    Ties are broken by the id's first appearance so results are deterministic.
    """
    if len(rankings) != len(weights):
        raise ValueError("one weight per ranking")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if weight <= 0:
            continue
        for rank, (item, _score) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])
