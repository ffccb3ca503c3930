"""Build the encoder and retriever from Settings (used by the CLI, API and scripts)."""

from __future__ import annotations

from docqa.settings import Settings
from index.embedder import SentenceTransformerEmbedder
from index.handle import IndexHandle
from retriever.searcher import Retriever


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.model, device=settings.device)


def load_retriever(settings: Settings) -> Retriever:
    embedder = load_embedder(settings)
    handle = IndexHandle(settings.index_dir, embedder.name, embedder.dimension, mmap=settings.mmap)
    return Retriever(handle, embedder, settings.search_options())
