"""Ranking, citations and query validation with the fake encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from retriever.errors import QueryError
from retriever.fusion import reciprocal_rank_fusion
from retriever.searcher import Retriever, SearchOptions
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever

# Search, hybrid fusion and citations run against both vector stores (FAISS, Milvus Lite).
pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture
def retriever(tmp_path: Path, corpus_dir: Path) -> Retriever:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    return open_retriever(tmp_path / "idx", encoder)


@pytest.mark.parametrize("mode", list(Mode))
def test_top_hit_and_citation(retriever: Retriever, mode: Mode) -> None:
    result = retriever.search("Who signed?", 3, mode)
    top = result.hits[0]
    assert "signed by Mayor Alice Brown" in top.text
    cite = top.citation
    assert cite.title == "The Harbour Treaty" and cite.paragraph == 1
    text = Path(cite.source).read_text(encoding="utf-8")
    assert text[cite.char_start : cite.char_end] == top.text
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))
    assert all(a.score >= b.score for a, b in zip(result.hits, result.hits[1:], strict=False))


def test_chinese_query_finds_chinese_paragraph(retriever: Retriever) -> None:
    top = retriever.search("茶叶在哪里种植", 1, Mode.LEXICAL).hits[0]
    assert top.text.startswith("茶叶")


def test_k_larger_than_index(retriever: Retriever) -> None:
    assert len(retriever.search("tea", 100, Mode.DENSE).hits) == 6


@pytest.mark.parametrize(
    ("question", "k", "message"),
    [
        ("", 5, "empty"),
        ("   \n", 5, "empty"),
        ("x" * 2001, 5, "limit is 2000"),
        ("ok", 0, "top_k"),
        ("ok", 101, "top_k"),
    ],
)
def test_bad_queries(retriever: Retriever, question: str, k: int, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        retriever.search(question, k)


def test_max_query_chars_setting(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    short = Retriever(
        open_retriever(tmp_path / "idx", encoder).handle,
        encoder,
        SearchOptions(max_query_chars=5),
    )
    with pytest.raises(QueryError, match="limit is 5"):
        short.search("too long", 1)


def test_rrf_orders_by_weighted_reciprocal_rank() -> None:
    fused = reciprocal_rank_fusion([[(1, 0.9), (2, 0.8)], [(2, 5.0), (3, 4.0)]], [1.0, 1.0], k=60)
    assert [item for item, _ in fused] == [2, 1, 3]
    only_second = reciprocal_rank_fusion([[(1, 0.9)], [(3, 1.0)]], [0.0, 1.0])
    assert [item for item, _ in only_second] == [3]


def test_reader_switches_to_new_generation(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    retriever = open_retriever(tmp_path / "idx", encoder)
    first = retriever.search("zeppelin", 1, Mode.LEXICAL)
    assert first.hits == ()
    (corpus_dir / "air.txt").write_text("The zeppelin flew over the harbour.", encoding="utf-8")
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    second = retriever.search("zeppelin", 1, Mode.LEXICAL)
    assert second.generation == first.generation + 1
    assert "zeppelin" in second.hits[0].text
