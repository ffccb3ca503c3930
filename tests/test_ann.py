"""Above the size threshold the writer switches to IVF-SQ8, records it, and stays correct."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from index.encoders.specs import specs_of
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.snapshot import IndexSnapshot
from index.lifecycle.writer import IndexWriter
from index.stores.base import AnnPolicy
from index.stores.faiss_index import DenseIndex, to_policy
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import open_retriever


def _folder(folder: Path, n: int, word: str = "item") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"d{i:03d}.txt").write_text(
            f"Entry {i}\n\nThe {word}{i} record describes thing{i} and place{i % 7}.\n",
            encoding="utf-8",
        )


def _index(index_dir: Path, folder: Path, encoder: KeywordEncoder, policy: AnnPolicy) -> None:
    with IndexWriter(index_dir, encoder, ann=policy) as writer:
        stage_paths(writer, discover([folder]))
        writer.commit()


def test_switches_to_ivf_above_threshold_and_back(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    _folder(folder, 150)
    encoder = KeywordEncoder()
    _index(index_dir, folder, encoder, AnnPolicy(threshold=100, nprobe=64))
    snapshot = IndexSnapshot.open(index_dir, specs_of([encoder]))
    manifest = json.loads((snapshot.directory / "manifest.json").read_text())
    assert manifest["vector_index"].startswith("IVF") and manifest["vector_index"].endswith(",SQ8")
    retriever = open_retriever(index_dir, encoder)
    top = retriever.search("item42 thing42", 1, Mode.DENSE).hits[0]
    assert "item42" in top.text

    # Incremental change on the IVF index: one file edited, one removed. (The fake
    # encoder is sparse: SQ8 learns each dimension's range at training, so the edit
    # reuses words the quantiser has seen, as real dense embeddings always do.)
    (folder / "d042.txt").write_text(
        "Entry 42\n\nThe item142 record describes thing42.\n", encoding="utf-8"
    )
    (folder / "d007.txt").unlink()
    _index(index_dir, folder, encoder, AnnPolicy(threshold=100, nprobe=64))
    retriever = open_retriever(index_dir, encoder)
    top = retriever.search("item142 thing42", 1, Mode.DENSE).hits[0]
    assert top.citation.source.endswith("d042.txt") and "item142" in top.text
    old = retriever.search("item42 thing42", 10, Mode.DENSE).hits
    assert all("item42 record" not in h.text for h in old)
    hits = retriever.search("item7 thing7", 20, Mode.DENSE).hits
    assert all(not h.citation.source.endswith("d007.txt") for h in hits)

    # exact_search: back to a flat index on the next commit.
    (folder / "d001.txt").write_text("Entry 1\n\nChanged.\n", encoding="utf-8")
    _index(index_dir, folder, encoder, AnnPolicy(threshold=100, exact=True))
    snapshot = IndexSnapshot.open(index_dir, specs_of([encoder]))
    assert snapshot.manifest.vector_index == "IDMap2,Flat"
    assert snapshot.primary.count == snapshot.store.count_passages()


def test_ivf_recall_against_exact() -> None:
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((50, 64)).astype(np.float32)
    points = centers[rng.integers(0, 50, 20_000)] + 0.3 * rng.standard_normal((20_000, 64))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    flat = DenseIndex.empty(64)
    flat.add(list(range(20_000)), points)
    ivf = to_policy(flat, AnnPolicy(threshold=1000, nprobe=32))
    assert ivf.kind.startswith("IVF")
    queries = points[:100]
    exact = flat.search(queries, 10)
    approx = ivf.search(queries, 10)
    recall = np.mean(
        [
            len({i for i, _ in a} & {i for i, _ in e}) / 10
            for a, e in zip(approx, exact, strict=True)
        ]
    )
    assert recall >= 0.9
    allowed = np.asarray([5, 17, 19_999], dtype=np.int64)
    assert {i for i, _ in ivf.search(queries[:1], 10, allowed)[0]} == {5, 17, 19_999}
