"""Small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

from index.encoders.base import Encoder
from index.encoders.specs import specs_of
from index.lifecycle.handle import IndexHandle
from index.lifecycle.ingest import FileError, discover, stage_paths
from index.lifecycle.writer import IndexWriter, IngestReport
from index.stores.base import VectorStore
from retriever.searcher import Retriever

# The vector store the retrieval tests run against; the ``store`` fixture (conftest.py)
# sets it to FAISS or Milvus Lite in turn. None: the FAISS default.
_vector_store: VectorStore | None = None
# Settings fields that select the same store, for tests that build the API app.
STORE_SETTINGS: dict[str, object] = {}


def use_vector_store(store: VectorStore | None) -> None:
    global _vector_store
    _vector_store = store


def vector_store() -> VectorStore | None:
    return _vector_store


def index_paths(
    index_dir: Path, encoder: Encoder, *paths: Path, rebuild: bool = False
) -> tuple[IngestReport, list[FileError]]:
    with IndexWriter(index_dir, encoder, rebuild=rebuild, vector_store=_vector_store) as writer:
        errors = stage_paths(writer, discover(paths))
        return writer.commit(), errors


def open_retriever(index_dir: Path, encoder: Encoder) -> Retriever:
    handle = IndexHandle(index_dir, specs_of([encoder]), vector_store=_vector_store)
    return Retriever(handle, encoder)
