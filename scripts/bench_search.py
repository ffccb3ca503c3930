"""Latency of search on an evaluation index: p50/p95 end to end, and where the time goes.

    python scripts/bench_search.py [DATA_DIR] [--queries 300] [--mode hybrid] [--no-rerank]
        [--threads 2] [--api] [--json OUT.json]

Uses the index ``scripts/evaluate.py`` builds and caches under .cache/eval/ (run that
first). Questions are every n-th of the dataset, so the sample spreads over all articles.
``Retriever.search`` is timed end to end (question encoding by every encoder, first
stage, second stage, passage fetch); ``--api`` times ``POST /search`` through the FastAPI
app in-process instead. A second pass over the same questions times each part alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, ROOT, write_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--queries", type=int, default=300, help="questions to time")
    parser.add_argument("--warmup", type=int, default=20, help="untimed questions first")
    parser.add_argument("--mode", default="hybrid", help="dense, lexical or hybrid")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--no-rerank", action="store_true", help="without the second stage")
    parser.add_argument("--threads", type=int, default=2, help="torch and e5 threads")
    parser.add_argument("--api", action="store_true", help="time POST /search in-process")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "eval")
    return parser.parse_args(argv)


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p95, mean and max of millisecond samples."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "max_ms": round(ordered[-1], 2),
    }


def parts(retriever: Any, questions: list[str], mode: Any, k: int) -> dict[str, list[float]]:
    """Each part of a search alone: encoding per encoder, first stage, second stage."""
    found: dict[str, list[float]] = {}

    def lap(name: str, started: float) -> float:
        now = time.perf_counter()
        found.setdefault(name, []).append(1000 * (now - started))
        return now

    snapshot = retriever.handle.current()
    depth = max(k, retriever.options.candidates)
    for question in questions:
        vectors = {}
        clock = time.perf_counter()
        for encoder in retriever.encoders:
            vectors[encoder.name] = encoder.encode_queries([question])
            clock = lap(f"encode[{encoder.name}]", clock)
        fused = retriever.fuse(retriever.rankings(snapshot, question, depth, mode, vectors))
        clock = lap("first_stage", clock)
        if retriever.second_stage is not None and mode.value == "hybrid":
            head = fused[: max(k, retriever.options.rerank_depth)]
            retriever.second_stage.rescore(snapshot, question, vectors, head)
            lap("second_stage", clock)
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import beir
    import torch
    from evaluate import eval_index_dir
    from rich.progress import track

    from docqa.settings import Settings
    from docqa.wiring import load_encoders, load_retriever
    from index.lifecycle.generation import current_generation
    from retriever.types import Mode

    torch.set_num_threads(args.threads)
    settings = Settings(threads=args.threads, rerank=not args.no_rerank)
    dataset = beir.load(args.data_dir)
    encoders = load_encoders(settings)
    index_dir = eval_index_dir(
        args.cache_dir,
        args.data_dir,
        dataset.name,
        encoders,
        settings.sentence_vectors,
        settings.sentence_pooling,
    )
    if current_generation(index_dir) is None:
        raise SystemExit(f"error: no index in {index_dir}; run scripts/evaluate.py first")
    settings = settings.model_copy(update={"index_dir": index_dir})
    retriever = load_retriever(settings, encoders)
    mode = Mode(args.mode)
    step = max(1, len(dataset.queries) // max(1, args.queries))
    questions = [q.text for q in dataset.queries[::step]][: args.queries]
    warm = [q.text for q in dataset.queries[1::step]][: args.warmup]

    if args.api:
        from fastapi.testclient import TestClient

        from docqa.server import create_app

        app = create_app(settings, lambda _s: encoders, lambda _s: None)
        with TestClient(app) as client:

            def search(question: str) -> object:
                body = {"query": question, "top_k": args.top_k, "mode": mode.value}
                response = client.post("/search", json=body)
                response.raise_for_status()
                return response

            samples = run(search, warm, questions, track)
            # What the app itself searches with: its own wiring may differ from ours.
            served = app.state.services.retriever().second_stage
    else:
        served = retriever.second_stage
        samples = run(lambda q: retriever.search(q, args.top_k, mode), warm, questions, track)
    breakdown = {
        name: summary(v) for name, v in parts(retriever, questions, mode, args.top_k).items()
    }
    payload = {
        "dataset": dataset.name,
        "passages": retriever.handle.current().manifest.count,
        "encoders": [e.name for e in encoders],
        "mode": mode.value,
        "second_stage": type(served).__name__ if served is not None else None,
        "through": "POST /search" if args.api else "Retriever.search",
        "queries": len(questions),
        "top_k": args.top_k,
        "threads": args.threads,
        **summary(samples),
        "parts": breakdown,
    }
    print(
        f"{payload['through']} {mode.value} (second stage: {payload['second_stage']}): "
        f"p50 {payload['p50_ms']} ms, p95 {payload['p95_ms']} ms over {len(questions)} questions"
    )
    for name, figures in breakdown.items():
        print(f"  {name:<32} p50 {figures['p50_ms']:>8} ms  p95 {figures['p95_ms']:>8} ms")
    if args.json:
        write_json(args.json, payload)
    return 0


def run(search: Any, warm: list[str], questions: list[str], track: Any) -> list[float]:
    for question in warm:
        search(question)
    samples = []
    for question in track(questions, description="search"):
        started = time.perf_counter()
        search(question)
        samples.append(1000 * (time.perf_counter() - started))
    return samples


if __name__ == "__main__":
    raise SystemExit(main())
