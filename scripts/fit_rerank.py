"""Fit the linear second stage on the tuning articles of a dataset.

    python scripts/fit_rerank.py [DATA_DIR] [--depth 50] [--c 1.0] [--limit N] [--json OUT]

For every question of the tuning split (``scripts/tuning_split.py``: two thirds of the
articles) the first stage's fused top ``depth`` passages are featurised exactly as at
search time (``retriever.rerank``). The fit is pairwise: a logistic regression without
intercept on feature differences, relevant passage minus each irrelevant candidate of
the same question (and the reverse, as negatives), which learns the ordering within a
question rather than a calibration across questions. The weights are printed as the
``POOLED_MODEL`` literal of ``retriever/rerank/model.py`` (``ENCODED_MODEL`` with
``DOCQA_SENTENCE_POOLING=false``, which fits on sentences encoded on their own), with
recall before and after on the tuning split and on the held-out articles, which the fit
never sees.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, ROOT, write_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--depth", type=int, default=50, help="fused candidates per question")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation")
    parser.add_argument("--limit", type=int, default=None, help="first N questions per split")
    parser.add_argument("--json", type=Path, default=None, help="write weights and figures")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "eval")
    return parser.parse_args(argv)


def gather(dataset: Any, retriever: Any, vectors: dict[str, Any], depth: int) -> list[Any]:
    """``(features, labels)`` per question: the fused top ``depth``, featurised."""
    import numpy as np
    from rich.progress import track

    from retriever.rerank import collect_signals, feature_matrix
    from retriever.types import Mode

    snapshot = retriever.handle.current()
    found = []
    for i, query in enumerate(track(dataset.queries, description=dataset.name)):
        vector = {n: v[i : i + 1] for n, v in vectors.items()}
        fused = retriever.rescored(snapshot, query.text, depth, Mode.HYBRID, vector).ranked[:depth]
        signals = collect_signals(snapshot, query.text, vector, fused)
        passages = snapshot.store.passages_by_vector_id([v for v, _ in fused])
        relevant = dataset.qrels[query.query_id]
        labels = np.asarray(
            [relevant.get(passages[v].document_id, 0) > 0 for v, _ in fused], dtype=np.int64
        )
        found.append((feature_matrix(signals, retriever.options.encoder_weights), labels))
    return found


def recall(examples: list[Any], scores: list[Any], k: int) -> float:
    """Share of questions whose top ``k`` by ``scores`` hold a relevant passage."""
    import numpy as np

    hits = 0
    for (_features, labels), score in zip(examples, scores, strict=True):
        order = np.argsort(-score, kind="stable")[:k]
        hits += int(labels[order].any())
    return hits / max(1, len(examples))


def report(name: str, examples: list[Any], model: Any) -> dict[str, float]:
    import numpy as np

    before = [-np.arange(len(labels), dtype=np.float64) for _f, labels in examples]
    after = [model.probabilities(features) for features, _l in examples]
    figures = {
        f"{when}_r@{k}": round(recall(examples, scores, k), 4)
        for when, scores in (("fused", before), ("reranked", after))
        for k in (1, 5, 10)
    }
    print(f"{name:>9} ({len(examples)} questions): {figures}")
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import beir
    import numpy as np
    from evaluate import eval_index_dir
    from query_cache import cached_vectors
    from tuning_split import subset

    from docqa.settings import Settings
    from docqa.wiring import load_encoders, load_retriever
    from retriever.rerank import FEATURE_NAMES, LinearModel

    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise SystemExit("error: fitting needs scikit-learn: pip install scikit-learn") from exc

    settings = Settings(rerank=False)  # the first stage alone produces the candidates
    full = beir.load(args.data_dir)
    encoders = load_encoders(settings)
    index_dir = eval_index_dir(
        args.cache_dir,
        args.data_dir,
        full.name,
        encoders,
        settings.sentence_vectors,
        settings.sentence_pooling,  # DOCQA_SENTENCE_POOLING=false fits on encoded sentences
    )
    retriever = load_retriever(settings.model_copy(update={"index_dir": index_dir}), encoders)
    splits = {}
    for name in ("tune", "held-out"):
        part = subset(full, name)
        queries = part.queries[: args.limit]
        part = beir.Dataset(part.name, part.corpus, queries, part.qrels)
        texts = [q.text for q in queries]
        vectors = {
            e.name: cached_vectors(e.name, e.encode_queries, texts, args.cache_dir)
            for e in encoders
        }
        splits[name] = gather(part, retriever, vectors, args.depth)
    pairs = np.concatenate(
        [
            (f[y > 0][:, None, :] - f[y == 0][None, :, :]).reshape(-1, len(FEATURE_NAMES))
            for f, y in splits["tune"]
            if y.any()
        ]
    )
    both = np.concatenate([pairs, -pairs])
    wins = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
    fit = LogisticRegression(C=args.c, fit_intercept=False, max_iter=5000).fit(both, wins)
    model = LinearModel(
        weights={n: round(float(w), 3) for n, w in zip(FEATURE_NAMES, fit.coef_[0], strict=True)}
    )
    # The literal's name in retriever/rerank/model.py: one model per kind of sentence vector.
    literal = "POOLED_MODEL" if settings.sentence_pooling else "ENCODED_MODEL"
    print(f"{literal} = LinearModel(weights={dict(model.weights)})")
    figures = {name: report(name, examples, model) for name, examples in splits.items()}
    if args.json:
        payload = {
            "weights": dict(model.weights),
            "sentence_pooling": settings.sentence_pooling,
            "depth": args.depth,
            "c": args.c,
            "figures": figures,
        }
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
