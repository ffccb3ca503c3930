"""Open the vector store a setting names."""

from __future__ import annotations

from index.stores.base import VectorStore
from index.stores.faiss_store import FaissStore


def open_vector_store(
    kind: str,
    *,
    uri: str = "",
    token: str = "",
    collection: str = "docqa",
    index_type: str = "auto",
) -> VectorStore:
    """The store a setting names: ``faiss`` (default, embedded) or ``milvus``."""
    if kind == "faiss":
        return FaissStore()
    if kind == "milvus":
        from index.stores.milvus.store import MilvusStore

        return MilvusStore(uri, token=token, collection=collection, index_type=index_type)
    raise ValueError(f"unknown vector store {kind!r}; use faiss or milvus")
