"""Retrieve, then read answers: the steps ``/v1/ask`` and chat share, off the event loop.

Async because the API awaits them; the work runs in worker threads (``anyio``), so
the event loop stays free while encoders, FAISS and the span model use the CPU.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from anyio.to_thread import run_sync

from index.filters import MetadataFilter
from retriever.answer.choice import Answer, all_spans, choose_answer, passage_spans, with_spans
from retriever.answer.types import AnswerExtractor, AnswerSpans
from retriever.searcher import Retriever
from retriever.types import Hit, Mode, SearchResult


@dataclass(frozen=True)
class Answered:
    """Hits carrying their answer spans, and the chosen answer."""

    hits: tuple[Hit, ...]
    answer: Answer | None


async def retrieve(
    retriever: Retriever,
    question: str,
    top_k: int,
    mode: Mode | None,
    filters: MetadataFilter | None,
) -> SearchResult:
    """Search in a worker thread (encoding and FAISS are CPU-bound)."""
    return await run_sync(retriever.search, question, top_k, mode, filters)


def _answered(result: SearchResult, spans: list[AnswerSpans]) -> Answered:
    hits = tuple(with_spans(h, s) for h, s in zip(result.hits, spans, strict=True))
    return Answered(hits, choose_answer(result.query, result.hits, spans))


async def read(extractor: AnswerExtractor | None, result: SearchResult) -> Answered:
    """Extract answer spans from every hit in one batch and choose the answer."""
    spans = await run_sync(all_spans, extractor, result.query, result.hits)
    return _answered(result, spans)


async def read_unless_gone(
    extractor: AnswerExtractor | None, result: SearchResult, gone: Callable[[], Awaitable[bool]]
) -> Answered | None:
    """Like :func:`read`, passage by passage, stopping (None) once ``gone()`` says the
    client disconnected: a dropped stream costs at most the passage being read."""
    spans: list[AnswerSpans] = []
    for hit in result.hits:
        if await gone():
            return None
        spans.append(await run_sync(passage_spans, extractor, result.query, hit))
    return _answered(result, spans)
