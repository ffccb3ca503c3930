"""End to end with the real encoders (MiniLM + multilingual e5) and the second stage."""

from __future__ import annotations

import shutil

import pytest

from docqa.settings import Settings
from docqa.wiring import load_retriever
from index.encoders.base import SentenceTransformerEmbedder
from index.encoders.e5.engine import E5Embedder
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter
from retriever.rerank import LinearReranker
from retriever.searcher import Retriever
from retriever.types import Mode
from tests.conftest import SEED

pytestmark = pytest.mark.e2e
SIGNING = "represented both parties in the signing"


@pytest.fixture(scope="module")
def seed_retriever(
    tmp_path_factory: pytest.TempPathFactory,
    real_embedder: SentenceTransformerEmbedder,
    e5_embedder: E5Embedder,
) -> Retriever:
    root = tmp_path_factory.mktemp("seed")
    (root / "docs").mkdir()
    shutil.copyfile(SEED, root / "docs" / SEED.name)
    encoders = [real_embedder, e5_embedder]
    with IndexWriter(root / "idx", encoders) as writer:
        stage_paths(writer, discover([root / "docs"]))
        writer.commit()
    # Wired as the CLI and scripts wire it: default settings, second stage on.
    retriever = load_retriever(Settings(index_dir=root / "idx"), list(encoders))
    assert isinstance(retriever.second_stage, LinearReranker)
    return retriever


@pytest.mark.parametrize("question", ["谁签署了协议？", "Who signed the agreement?"])
def test_signing_paragraph_in_top3(seed_retriever: Retriever, question: str) -> None:
    result = seed_retriever.search(question, 3, Mode.HYBRID)
    texts = [h.text for h in result.hits]
    assert any(SIGNING in t for t in texts), [t[:80] for t in texts]
    assert result.hits[0].score >= result.hits[-1].score


def test_second_stage_sentence_vectors_cover_every_paragraph(seed_retriever: Retriever) -> None:
    snapshot = seed_retriever.handle.current()
    passages = list(snapshot.store.iter_passages())
    rows = snapshot.sentences.rows_of([p.vector_id for p in passages])
    assert set(rows.vector_ids.tolist()) == {p.vector_id for p in passages}
    assert len(rows.vector_ids) == snapshot.manifest.sentences > len(passages)
    by_id = {p.vector_id: p.text for p in passages}
    signing = [
        by_id[int(v)][a:b]
        for v, (a, b) in zip(rows.vector_ids, rows.spans, strict=True)
        if SIGNING in by_id[int(v)][a:b]
    ]
    assert signing == [
        "Wu Wei, Standing Committee Member and Executive Vice Governor of Shanxi, and Chen "
        "Xinjian, Vice Party Secretary and President of Industrial Bank, represented both "
        "parties in the signing."
    ]
