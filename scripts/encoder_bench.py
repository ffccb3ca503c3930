"""Shared helpers of the encoder checks: SQuAD samples, timing, cosines, recall@10.

Used by ``check_e5_equivalence.py`` and ``check_minilm_onnx.py``; not a CLI itself.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev"

#: Non-English fixtures: the e5 path must tokenise CJK exactly like the engine.
CHINESE_PASSAGES = [
    "茶叶在山上种植，每年春天采摘。绿茶不经过发酵，保留了鲜叶的天然物质。",
    "北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。",
    "长江是亚洲第一长河，全长约六千三百公里，流经青海、西藏、四川等十一个省级行政区。",
    "1901年，市长爱丽丝·布朗与酋长汤姆·里德签署了《港口条约》，规定每吨收取“两便士”港口费。",
    "光合作用是植物利用光能，把二氧化碳和水转化为有机物并释放氧气的过程。",
    "兴业银行山西分行于二〇〇八年成立，总部位于太原市。",
]
CHINESE_QUESTIONS = [
    "茶叶什么时候采摘？",
    "中国的首都是哪里？",
    "长江有多长？",
    "谁签署了港口条约？",
    "光合作用会释放什么气体？",
    "兴业银行山西分行在哪一年成立？",
]


@dataclass(frozen=True)
class Squad:
    """The BEIR-layout SQuAD dev set: passages, questions and which passage answers."""

    passage_ids: list[str]
    passages: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: dict[str, str]


def load_squad(data_dir: Path = SQUAD) -> Squad:
    def rows(name: str) -> list[dict[str, Any]]:
        with open(data_dir / name, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    corpus, queries = rows("corpus.jsonl"), rows("queries.jsonl")
    qrels: dict[str, str] = {}
    with open(data_dir / "qrels.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            query, passage, score = line.rstrip("\n").split("\t")
            if int(score) > 0:
                qrels[query] = passage
    return Squad(
        [r["id"] for r in corpus],
        [r["text"] for r in corpus],
        [r["id"] for r in queries],
        [r["text"] for r in queries],
        qrels,
    )


def spread(items: list[str], n: int) -> list[str]:
    """``n`` items evenly spaced through ``items`` (many articles, not the first few)."""
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def timed(encode: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[np.ndarray, float]:
    """Vectors and texts per second (after a two-text warm-up)."""
    encode(texts[:2])
    start = time.perf_counter()
    vectors = encode(texts)
    return vectors, len(texts) / (time.perf_counter() - start)


def cosine_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Min and mean row-wise cosine of two sets of unit vectors."""
    cos = (a * b).sum(axis=1)
    return {"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6)}


def recall_at_10(passages: np.ndarray, queries: np.ndarray, squad: Squad) -> float:
    """Share of questions whose answering paragraph is in the top 10 by inner product."""
    hits = 0
    for start in range(0, len(queries), 1024):
        scores = queries[start : start + 1024] @ passages.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        for row, candidates in enumerate(top):
            wanted = squad.qrels.get(squad.query_ids[start + row])
            hits += any(squad.passage_ids[c] == wanted for c in candidates)
    return round(100.0 * hits / len(queries), 2)


def machine() -> dict[str, Any]:
    """What the numbers were measured on (the CPU here is shared with other jobs)."""
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def _passages(encoder: Any, batch_size: int, texts: list[str]) -> np.ndarray:
    return np.asarray(encoder.encode_passages(texts, batch_size))


def compare(
    encoders: dict[str, Any],
    passages: list[str],
    queries: list[str],
    squad: Squad | None,
    rounds: int,
    batch_size: int,
) -> dict[str, Any]:
    """Time every encoder on the same texts, in turns; cosines against the first one.

    With ``squad``, also the dense recall@10 of each encoder over the whole set.
    """
    from tqdm import tqdm

    names = list(encoders)
    results: dict[str, dict[str, Any]] = {n: {"encoder": n, "p/s": 0.0, "q/s": 0.0} for n in names}
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    steps = tqdm(total=rounds * len(names), desc="timing", file=sys.stderr)
    for _ in range(max(rounds, 1)):
        for name, encoder in encoders.items():
            p_vec, p_rate = timed(partial(_passages, encoder, batch_size), passages)
            q_vec, q_rate = timed(encoder.encode_queries, queries)
            vectors[name] = (p_vec, q_vec)
            results[name]["p/s"] = round(max(results[name]["p/s"], p_rate), 2)
            results[name]["q/s"] = round(max(results[name]["q/s"], q_rate), 1)
            steps.update()
    steps.close()
    reference = names[0]
    for name in names:
        for kind, index in (("p", 0), ("q", 1)):
            stats = cosine_stats(vectors[name][index], vectors[reference][index])
            results[name][f"cos_{kind}_min"] = stats["min"]
            results[name][f"cos_{kind}_mean"] = stats["mean"]
        if hasattr(encoders[name], "device"):
            results[name]["device"] = encoders[name].device
    if squad is not None:
        for name in tqdm(names, desc="recall@10", file=sys.stderr):
            corpus = encoders[name].encode_passages(squad.passages, batch_size)
            questions = encoders[name].encode_queries(squad.queries)
            results[name]["recall@10"] = recall_at_10(corpus, questions, squad)
    return {
        "reference": reference,
        "passages": len(passages),
        "queries": len(queries),
        "machine_after": machine(),
        "results": list(results.values()),
    }


def run(
    args: Any,
    known: Sequence[str],
    make: Callable[[str], Any],
    passages: list[str],
    queries: list[str],
    squad: Squad,
) -> None:
    """Build the encoders named in ``args.encoders`` (among ``known``), compare, report."""
    names = [n.strip() for n in args.encoders.split(",") if n.strip()]
    unknown = set(names) - set(known)
    if unknown:
        raise SystemExit(f"unknown encoders {sorted(unknown)}; choose from {list(known)}")
    load_before = machine()
    encoders = {name: make(name) for name in names}
    report = compare(
        encoders, passages, queries, squad if args.recall else None, args.rounds, args.batch_size
    )
    output(dict(report, machine_before=load_before), args.json)


def output(report: dict[str, Any], json_target: str | None) -> None:
    """The table on stdout, or the JSON report on stdout (``-``) or in a file."""
    if json_target == "-":
        print(json.dumps(report, indent=2))
        return
    before = report.get("machine_before", machine())
    print(
        f"{report['passages']} passages, {report['queries']} questions; cosines vs "
        f"{report['reference']}; load average {before['load_average']} -> "
        f"{report['machine_after']['load_average']} on {before['cpus']} shared CPUs"
    )
    rows = report["results"]
    columns = ["encoder", "p/s", "q/s", "cos_p_min", "cos_p_mean", "cos_q_min", "cos_q_mean"]
    columns += [c for c in ("recall@10", "device") if any(c in r for r in rows)]
    print_table(rows, columns)
    if json_target:
        Path(json_target).write_text(json.dumps(report, indent=2), encoding="utf-8")


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))
