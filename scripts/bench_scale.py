"""FAISS (and Milvus) at scale: exact vs the automatic IVF-SQ8 index on N vectors.

    python scripts/bench_scale.py [--n 100000 1000000] [--queries 200] [--json OUT.json]
    python scripts/bench_scale.py --store milvus [--milvus-index FLAT HNSW] ...

With ``--store milvus`` the same vectors also go into a Milvus Lite collection through
docqa's own store (index/milvus_store.py: rows with generation fields, IP metric), and
its rows are printed beside FAISS's, measured in the same run.

Vectors: embedding a million real passages is not affordable on 2 cores, so the corpus is
SYNTHETIC but shaped like real data: --seed-texts SQuAD sentences are embedded with the
shipped MiniLM (cached under .cache/bench/), and each of the N vectors is a normalised mix
of two of them plus Gaussian noise. Queries are real SQuAD questions embedded with the same
model. Reports index size in RAM, build time, single-query latency and recall@10 against
exact search, measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import ROOT, write_json

SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev"
CACHE = ROOT / ".cache" / "bench"


def seed_vectors(n_texts: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Real MiniLM embeddings of SQuAD sentences and questions (cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"squad-minilm-{n_texts}-{n_queries}.npz"
    if path.exists():
        data = np.load(path)
        return data["texts"], data["queries"]
    from index.encoders.base import SentenceTransformerEncoder

    sentences: list[str] = []
    with open(SQUAD / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]) if s)
    questions = [
        json.loads(line)["text"]
        for line in open(SQUAD / "queries.jsonl", encoding="utf-8").readlines()[:n_queries]
    ]
    model = SentenceTransformerEncoder()
    texts = model.encode_passages(sentences[:n_texts], batch_size=64)
    queries = model.encode_queries(questions)
    np.savez(path, texts=texts, queries=queries)
    return texts, queries


def synthetic(seeds: np.ndarray, n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, seeds.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        a = seeds[rng.integers(0, len(seeds), m)]
        b = seeds[rng.integers(0, len(seeds), m)]
        w = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        block = w * a + (1 - w) * b + noise * rng.standard_normal(a.shape).astype(np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def latency_ms(index: object, queries: np.ndarray, k: int) -> list[float]:
    times = []
    for q in queries:
        started = time.perf_counter()
        index.search(q[None, :], k)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
    return times


def milvus_rows(
    vectors: np.ndarray, queries: np.ndarray, exact: list[list[int]], index_type: str, tmp: Path
) -> dict[str, float | str]:
    """Build time, single-query latency and recall@10 of docqa's Milvus store (Milvus Lite)."""
    from index.encoders.specs import EncoderSpec
    from index.stores.base import AnnPolicy, RowFields
    from index.stores.milvus.client import disconnect
    from index.stores.milvus.store import MilvusStore

    uri = str(tmp / f"milvus-{index_type}.db")
    store = MilvusStore(uri, collection="bench", index_type=index_type)
    spec = EncoderSpec("bench", vectors.shape[1])
    started = time.perf_counter()
    store.begin(tmp, [spec], None)
    writer = store.writer(spec, 1, None)
    fields = [RowFields("doc")] * 10_000
    for start in range(0, len(vectors), 10_000):
        part = vectors[start : start + 10_000]
        writer.add(list(range(start, start + len(part))), part, fields[: len(part)])
    kind = writer.finish(tmp, AnnPolicy())
    index = store.reader(tmp, spec, 1, kind, mmap=False)
    index.search(queries[:1], 10)  # the first search loads / builds the index
    build = time.perf_counter() - started
    found = [[i for i, _ in hits] for hits in index.search(queries, 10)]
    recall = float(
        np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])
    )
    times = latency_ms(index, queries, 10)
    size = (
        sum(p.stat().st_size for p in Path(uri).rglob("*") if p.is_file())
        if Path(uri).is_dir()
        else Path(uri).stat().st_size
    )
    disconnect(uri)
    return {
        "index": f"milvus-lite {index_type}",
        "index_mib": round(size / 2**20, 1),
        "build_s": round(build, 1),
        "query_p50_ms": round(float(np.percentile(times, 50)), 3),
        "query_p95_ms": round(float(np.percentile(times, 95)), 3),
        "recall@10_vs_exact": round(recall, 4),
    }


def run(
    n: int, args: argparse.Namespace, save: Callable[[dict[str, dict[str, float | str]]], None]
) -> dict[str, dict[str, float | str]]:
    """Every configured index on ``n`` synthetic vectors, side by side; ``save`` after each."""
    from index.stores.base import AnnPolicy
    from index.stores.faiss_index import DenseIndex, to_policy

    seeds, queries = seed_vectors(args.seed_texts, args.queries)
    vectors = synthetic(seeds, n, args.noise, np.random.default_rng(0))
    ids = list(range(n))
    results: dict[str, dict[str, float | str]] = {}

    started = time.perf_counter()
    flat = DenseIndex.empty(vectors.shape[1])
    flat.add(ids, vectors)
    flat_build = time.perf_counter() - started
    exact = [[i for i, _ in hits] for hits in flat.search(queries, 10)]

    started = time.perf_counter()
    ann = to_policy(flat, AnnPolicy(threshold=1, nprobe=args.nprobe))
    ann_build = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        for name, index, build in (("exact", flat, flat_build), ("auto", ann, ann_build)):
            path = Path(tmp) / f"{name}.faiss"
            index.write(path)
            size = path.stat().st_size
            loaded = DenseIndex.read(path, nprobe=args.nprobe)
            found = [[i for i, _ in hits] for hits in loaded.search(queries, 10)]
            recall = float(
                np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])
            )
            times = latency_ms(loaded, queries, 10)
            results[name] = {
                "index": loaded.kind,
                "index_mib": round(size / 2**20, 1),
                "build_s": round(build, 1),
                "query_p50_ms": round(float(np.percentile(times, 50)), 3),
                "query_p95_ms": round(float(np.percentile(times, 95)), 3),
                "recall@10_vs_exact": round(recall, 4),
            }
            path.unlink()
            save(results)
        del flat, ann
        if args.store == "milvus" and n <= args.milvus_max_n:
            for index_type in args.milvus_index:
                print(f"  milvus {index_type} on {n:,} vectors...", file=sys.stderr, flush=True)
                results[f"milvus-{index_type}"] = milvus_rows(
                    vectors, queries, exact, index_type, Path(tmp)
                )
                save(results)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed-texts", type=int, default=20_000)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--nprobe", type=int, default=32)
    parser.add_argument("--store", choices=["faiss", "milvus"], default="faiss")
    parser.add_argument("--milvus-index", nargs="+", default=["FLAT", "HNSW"])
    # Milvus Lite 3.2.2 was OOM-killed at 19.8 GB RSS building 1M x 384 on a 23 GB machine.
    parser.add_argument("--milvus-max-n", type=int, default=1_000_000_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    payload: dict[str, object] = {"vectors": "synthetic (mixes of real MiniLM embeddings)"}

    def save(n: int, results: dict[str, dict[str, float | str]]) -> None:
        payload[str(n)] = results  # written after every row: a killed run keeps what it measured
        if args.json:
            write_json(args.json, payload)

    for n in args.n:
        results = run(n, args, lambda rows, n=n: save(n, rows))
        print(f"{n:,} synthetic vectors from {args.seed_texts:,} real MiniLM sentence embeddings")
        print(f"{'':14}" + "".join(f"{k:>20}" for k in results["exact"]))
        for name, row in results.items():
            print(f"{name:14}" + "".join(f"{v!s:>20}" for v in row.values()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
