"""Evaluate docqa retrieval on a BEIR-layout folder.

    python scripts/evaluate.py DATA_DIR [--limit N] [--json OUT.json] [--mode hybrid]
        [--compare dense,lexical,hybrid] [--per-query OUT.jsonl]

Builds (or reuses, from .cache/eval/) an index of the corpus, runs every query and
prints recall@1/5/10/20, MRR@10 and nDCG@10, as a table and as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

METRICS = ("recall@1", "recall@5", "recall@10", "recall@20", "mrr@10", "ndcg@10")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="first N queries only")
    parser.add_argument("--json", type=Path, default=None, help="write metrics JSON here")
    parser.add_argument("--mode", default=None, help="dense, lexical or hybrid (default: setting)")
    parser.add_argument("--compare", default=None, help="comma-separated modes, one table")
    parser.add_argument("--per-query", type=Path, default=None, help="JSONL of per-query results")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "eval")
    return parser.parse_args(argv)


def cache_key(data_dir: Path, model: str) -> str:
    stat = (data_dir / "corpus.jsonl").stat()
    raw = f"{data_dir.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{model}"
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import beir
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    from docqa.settings import Settings
    from docqa.wiring import load_embedders, load_retriever
    from index.generation import current_generation
    from index.models import DocumentInput
    from index.writer import IndexWriter
    from retriever.metrics import evaluate_run, per_query
    from retriever.types import Mode

    console = Console(stderr=True)
    settings = Settings()
    dataset = beir.load(args.data_dir, args.limit)
    embedders = load_embedders(settings)
    names = "+".join(e.name for e in embedders)
    index_dir = args.cache_dir / f"{dataset.name}-{cache_key(args.data_dir, names)}"
    build_seconds = 0.0
    if current_generation(index_dir) is None:
        console.print(f"indexing {len(dataset.corpus)} passages into {index_dir}")
        started = time.perf_counter()
        with IndexWriter(
            index_dir, embedders, rebuild=True, batch_size=settings.batch_size
        ) as writer:
            for doc_id, (title, text) in dataset.corpus.items():
                writer.upsert(DocumentInput(doc_id, text, title, f"{dataset.name}:{doc_id}"))
            writer.commit(progress=lambda d, t: console.print(f"  embedded {d}/{t}", end="\r"))
        build_seconds = time.perf_counter() - started
    retriever = load_retriever(settings.model_copy(update={"index_dir": index_dir}), embedders)
    snapshot = retriever.handle.current()
    modes = (
        [Mode(m) for m in args.compare.split(",")]
        if args.compare
        else [Mode(args.mode or settings.mode)]
    )
    texts = [q.text for q in dataset.queries]
    vectors = retriever.encode_queries(texts) if any(m != Mode.LEXICAL for m in modes) else None
    results: dict[str, dict[str, float]] = {}
    per_query_rows: list[dict[str, object]] = []
    for mode in modes:
        run: dict[str, dict[str, float]] = {}
        started = time.perf_counter()
        for i, query in enumerate(
            track(dataset.queries, description=f"{mode.value}", console=console)
        ):
            vector = {n: v[i : i + 1] for n, v in vectors.items()} if vectors else None
            ranked = retriever.rank(snapshot, query.text, 100, mode, vector)
            passages = snapshot.store.passages_by_vector_id([v for v, _ in ranked])
            scores: dict[str, float] = {}
            for position, (vector_id, _score) in enumerate(ranked):
                doc = passages[vector_id].document_id
                scores.setdefault(doc, float(len(ranked) - position))  # best rank per document
            run[query.query_id] = scores
            if args.per_query:
                from retriever.metrics import ranked_ids

                per_query_rows.append(
                    {
                        "mode": mode.value,
                        "query_id": query.query_id,
                        "query": query.text,
                        "top10": ranked_ids(scores)[:10],
                        **per_query(ranked_ids(scores), dataset.qrels[query.query_id]),
                    }
                )
        metrics = evaluate_run(run, dataset.qrels)
        metrics["ms_per_query"] = (
            1000 * (time.perf_counter() - started) / max(1, len(dataset.queries))
        )
        results[mode.value] = metrics
    table = Table(
        title=f"{dataset.name}: {len(dataset.queries)} queries, {snapshot.manifest.count} passages"
    )
    table.add_column("mode")
    for name in (*METRICS, "ms/query"):
        table.add_column(name, justify="right")
    for mode_name, metrics in results.items():
        table.add_row(
            mode_name, *(f"{metrics[m]:.3f}" for m in METRICS), f"{metrics['ms_per_query']:.1f}"
        )
    Console().print(table)
    payload: dict[str, object] = {
        "dataset": dataset.name,
        "encoders": [e.name for e in embedders],
        "passages": snapshot.manifest.count,
        "index_build_seconds": round(build_seconds, 1),
        **({"modes": results} if len(results) > 1 else next(iter(results.values()))),
    }
    if len(results) == 1:
        payload["mode"] = modes[0].value
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if args.per_query:
        args.per_query.parent.mkdir(parents=True, exist_ok=True)
        with open(args.per_query, "w", encoding="utf-8") as handle:
            for row in per_query_rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
