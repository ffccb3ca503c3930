"""The tuning / held-out split of an evaluation set, by article (passage title).

Second-stage weights are fitted on the questions of the tuning articles only; the
held-out articles are never looked at while tuning, so their figures show how the
method carries over to text it was not tuned on. Sorted titles, every third one (offset
2) held out: the same rule as the answer extractor's training split
(``scripts/lab/squad_data.py``), so on SQuAD both models hold out the same articles.
"""

from __future__ import annotations

from beir import Dataset

HELD_OUT_EVERY = 3
HELD_OUT_OFFSET = 2
SUBSETS = ("all", "tune", "held-out")


def held_out_titles(dataset: Dataset) -> set[str]:
    """Titles of the held-out articles."""
    titles = sorted({title for title, _text in dataset.corpus.values()})
    return {t for i, t in enumerate(titles) if i % HELD_OUT_EVERY == HELD_OUT_OFFSET}


def subset(dataset: Dataset, name: str) -> Dataset:
    """``dataset`` restricted to the questions of ``name``: all, tune or held-out.

    A question belongs to the held-out part when any of its relevant passages does; the
    corpus stays whole, so retrieval is always over every passage.
    """
    if name == "all":
        return dataset
    if name not in SUBSETS:
        raise SystemExit(f"error: subset must be one of {', '.join(SUBSETS)}, got {name!r}")
    held = held_out_titles(dataset)

    def is_held(query_id: str) -> bool:
        return any(dataset.corpus[d][0] in held for d in dataset.qrels.get(query_id, {}))

    want_held = name == "held-out"
    queries = [q for q in dataset.queries if is_held(q.query_id) == want_held]
    kept = {q.query_id for q in queries}
    return Dataset(
        dataset.name,
        dataset.corpus,
        queries,
        {q: r for q, r in dataset.qrels.items() if q in kept},
    )
