"""Read a BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels.tsv (or qrels/test.tsv)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    name: str
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: list[Query]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)


def _qrels_path(folder: Path) -> Path:
    for candidate in (
        folder / "qrels.tsv",
        folder / "qrels" / "test.tsv",
        folder / "qrels" / "dev.tsv",
    ):
        if candidate.exists():
            return candidate
    raise SystemExit(f"error: {folder} has no qrels.tsv (nor qrels/test.tsv)")


def load(folder: Path, limit: int | None = None) -> Dataset:
    """Load a dataset; ``limit`` keeps the first N judged queries (file order)."""
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / name).exists():
            raise SystemExit(f"error: {folder / name} is missing (BEIR layout expected)")
    corpus: dict[str, tuple[str, str]] = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            corpus[str(row["_id"] if "_id" in row else row["id"])] = (
                row.get("title", ""),
                row["text"],
            )
    qrels: dict[str, dict[str, int]] = {}
    with open(_qrels_path(folder), encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)  # header
        for query_id, doc_id, score in reader:
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    queries: list[Query] = []
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            query_id = str(row["_id"] if "_id" in row else row["id"])
            if query_id in qrels:
                queries.append(Query(query_id, row["text"], tuple(row.get("answers", ()))))
    if limit is not None:
        queries = queries[:limit]
    kept = {q.query_id for q in queries}
    return Dataset(folder.name, corpus, queries, {q: r for q, r in qrels.items() if q in kept})
