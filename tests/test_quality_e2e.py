"""End to end with the real encoders (MiniLM + multilingual e5) and the second stage."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from docqa.cli import sample_corpus
from docqa.settings import Settings
from docqa.wiring import load_retriever
from index.encoders.base import SentenceTransformerEncoder
from index.encoders.e5.engine import E5Encoder
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter
from retriever.rerank import LinearReranker
from retriever.searcher import Retriever
from retriever.types import Mode
from tests.shared_data import SEED, needs_shared

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Signing:
    """A corpus with a signing story: the seed article, or the sample corpus (any clone)."""

    document: Path
    sentence: str  # the signing sentence, one sentence vector
    answers: tuple[str, ...]  # words of the paragraphs that say who signed


CORPORA = [
    pytest.param(
        Signing(
            SEED,
            "Wu Wei, Standing Committee Member and Executive Vice Governor of Shanxi, and Chen "
            "Xinjian, Vice Party Secretary and President of Industrial Bank, represented both "
            "parties in the signing.",
            ("represented both parties in the signing",),
        ),
        id="seed",
        marks=needs_shared(SEED),
    ),
    pytest.param(
        Signing(
            sample_corpus() / "signing-ceremony.md",
            "Mayor Elena Duarte signed the agreement on behalf of Harbour City Council, and "
            "Northwind Rail's chief executive, Samuel Okafor, signed for the company.",
            # The Chinese story's signing paragraph answers the Chinese question as well.
            ("Mayor Elena Duarte signed the agreement", "李明华代表村民委员会签字"),
        ),
        id="sample",
    ),
]


@pytest.fixture(scope="module", params=CORPORA)
def signing(request: pytest.FixtureRequest) -> Signing:
    case: Signing = request.param
    return case


@pytest.fixture(scope="module")
def seed_retriever(
    tmp_path_factory: pytest.TempPathFactory,
    real_embedder: SentenceTransformerEncoder,
    e5_embedder: E5Encoder,
    signing: Signing,
) -> Retriever:
    root = tmp_path_factory.mktemp("corpus")
    # Indexed beside the rest of its corpus (the seed is alone in ../shared/corpus/seed).
    shutil.copytree(signing.document.parent, root / "docs")
    encoders = [real_embedder, e5_embedder]
    with IndexWriter(root / "idx", encoders) as writer:
        stage_paths(writer, discover([root / "docs"]))
        writer.commit()
    # Wired as the CLI and scripts wire it: default settings, second stage on.
    retriever = load_retriever(Settings(index_dir=root / "idx"), list(encoders))
    assert isinstance(retriever.second_stage, LinearReranker)
    return retriever


@pytest.mark.parametrize("question", ["谁签署了协议？", "Who signed the agreement?"])
def test_signing_paragraph_in_top3(
    seed_retriever: Retriever, signing: Signing, question: str
) -> None:
    result = seed_retriever.search(question, 3, Mode.HYBRID)
    texts = [h.text for h in result.hits]
    assert any(a in t for t in texts for a in signing.answers), [t[:80] for t in texts]
    assert result.hits[0].score >= result.hits[-1].score


def test_second_stage_sentence_vectors_cover_every_paragraph(
    seed_retriever: Retriever, signing: Signing
) -> None:
    snapshot = seed_retriever.handle.current()
    passages = list(snapshot.store.iter_passages())
    rows = snapshot.sentences.rows_of([p.vector_id for p in passages])
    assert set(rows.vector_ids.tolist()) == {p.vector_id for p in passages}
    assert len(rows.vector_ids) == snapshot.manifest.sentences > len(passages)
    by_id = {p.vector_id: p.text for p in passages}
    # The signing sentence is one sentence vector, cut exactly at its boundaries.
    words = signing.sentence[-40:]
    found = [
        by_id[int(v)][a:b]
        for v, (a, b) in zip(rows.vector_ids, rows.spans, strict=True)
        if words in by_id[int(v)][a:b]
    ]
    assert found == [signing.sentence]
