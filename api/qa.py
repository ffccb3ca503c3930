"""Retrieve, then read answers: the steps ``/v1/ask`` and chat share, off the event loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from api.answering import (
    Answer,
    PassageSpans,
    all_spans,
    choose_answer,
    is_found,
    passage_spans,
    with_spans,
)
from api.deps import Services
from index.filters import MetadataFilter
from retriever.types import Hit, Mode, SearchResult


@dataclass(frozen=True)
class Answered:
    """Hits carrying their answer spans, the chosen answer, and whether it answers.

    ``answer`` is kept when not ``found``: the closest text, for callers that show it.
    """

    hits: tuple[Hit, ...]
    answer: Answer | None
    found: bool


async def retrieve(
    services: Services,
    question: str,
    top_k: int,
    mode: Mode | None,
    filters: MetadataFilter | None,
) -> SearchResult:
    """Search in a worker thread (encoding and FAISS are CPU-bound)."""
    return await run_in_threadpool(services.retriever().search, question, top_k, mode, filters)


def _answered(
    services: Services, result: SearchResult, question: str, spans: list[PassageSpans]
) -> Answered:
    hits = tuple(with_spans(h, s) for h, s in zip(result.hits, spans, strict=True))
    answer = choose_answer(question, result.hits, spans)
    return Answered(hits, answer, is_found(answer, services.settings.found_min_score))


async def read(services: Services, result: SearchResult, question: str) -> Answered:
    """Extract answer spans from every hit in one batch and choose the answer.

    ``question`` is what the user asked; ``result.query`` may carry a follow-up's
    context terms, which help finding passages but would confuse the span model.
    """
    spans = await run_in_threadpool(all_spans, services.extractor, question, result.hits)
    return _answered(services, result, question, spans)


async def read_unless_gone(
    services: Services, result: SearchResult, question: str, gone: Callable[[], Awaitable[bool]]
) -> Answered | None:
    """Like :func:`read`, passage by passage, stopping (None) once ``gone()`` says the
    client disconnected: a dropped stream costs at most the passage being read."""
    spans: list[PassageSpans] = []
    for hit in result.hits:
        if await gone():
            return None
        spans.append(await run_in_threadpool(passage_spans, services.extractor, question, hit))
    return _answered(services, result, question, spans)
