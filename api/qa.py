"""Retrieve, then read answers: the steps ``/v1/ask`` and chat share, off the event loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from api.answering import Answer, PassageSpans, all_spans, choose_answer, passage_spans, with_spans
from api.deps import Services
from index.filters import MetadataFilter
from retriever.types import Hit, Mode, SearchResult


@dataclass(frozen=True)
class Answered:
    """Hits carrying their answer spans, and the chosen answer."""

    hits: tuple[Hit, ...]
    answer: Answer | None


async def retrieve(
    services: Services,
    question: str,
    top_k: int,
    mode: Mode | None,
    filters: MetadataFilter | None,
) -> SearchResult:
    """Search in a worker thread (encoding and FAISS are CPU-bound)."""
    result = await run_in_threadpool(services.retriever().search, question, top_k, mode, filters)
    return services.sources.result(result)


def _answered(result: SearchResult, spans: list[PassageSpans]) -> Answered:
    hits = tuple(with_spans(h, s) for h, s in zip(result.hits, spans, strict=True))
    return Answered(hits, choose_answer(result.query, result.hits, spans))


async def read(services: Services, result: SearchResult) -> Answered:
    """Extract answer spans from every hit in one batch and choose the answer."""
    spans = await run_in_threadpool(all_spans, services.extractor, result.query, result.hits)
    return _answered(result, spans)


async def read_unless_gone(
    services: Services, result: SearchResult, gone: Callable[[], Awaitable[bool]]
) -> Answered | None:
    """Like :func:`read`, passage by passage, stopping (None) once ``gone()`` says the
    client disconnected: a dropped stream costs at most the passage being read."""
    spans: list[PassageSpans] = []
    for hit in result.hits:
        if await gone():
            return None
        spans.append(await run_in_threadpool(passage_spans, services.extractor, result.query, hit))
    return _answered(result, spans)
