"""Retrieve, then read answers: the steps ``/v1/ask`` and chat share, off the event loop.

Async because the API awaits them; the work runs in worker threads (``anyio``), so
the event loop stays free while encoders, FAISS and the span model use the CPU.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from anyio.to_thread import run_sync

from index.filters import MetadataFilter
from retriever.answer.choice import Answer, all_spans, choose_answer, passage_spans
from retriever.answer.found import FoundRule
from retriever.answer.types import AnswerExtractor, AnswerSpans
from retriever.searcher import Retriever
from retriever.types import Hit, Mode, SearchResult


@dataclass(frozen=True)
class Answered:
    """Hits carrying their answer spans, the chosen answer, and whether it answers.

    ``answer`` is kept when not ``found``: the closest text, for callers that show it;
    the hits then carry no answer or sentence spans (they are the closest passages, and
    a span marked in them would read as an answer).
    """

    hits: tuple[Hit, ...]
    answer: Answer | None
    found: bool


async def retrieve(
    retriever: Retriever,
    question: str,
    top_k: int,
    mode: Mode | None,
    filters: MetadataFilter | None,
    asked: str | None = None,
) -> SearchResult:
    """Search for ``question`` in a worker thread (encoding and FAISS are CPU-bound).

    ``asked`` is the user's question when ``question`` is a follow-up's search query:
    relevance is judged for it (:meth:`Retriever.search`).
    """
    return await run_sync(retriever.search, question, top_k, mode, filters, asked)


def answered(
    extractor: AnswerExtractor | None,
    result: SearchResult,
    question: str,
    spans: list[AnswerSpans],
    rule: FoundRule,
) -> Answered:
    """The hits with their ``spans`` (one per hit), the chosen answer, and whether the
    ``rule`` finds that it answers ``question``."""
    hits = tuple(rule.judge(h, s) for h, s in zip(result.hits, spans, strict=True))
    # Relevance (where the rule has a model) picks the passage the answer comes from.
    relevance = [h.relevance for h in hits] if rule.relevance is not None else None
    answer = choose_answer(question, result.hits, spans, relevance)
    # Without a span model nothing can judge the answer: the fallback sentence is shown,
    # marked as the closest text (kind "sentence"), rather than hidden as not found.
    found = rule.found(answer, hits) if extractor is not None else answer is not None
    if not found:
        # The closest passages are listed as such: no span in them is marked as an answer.
        hits = tuple(replace(h, answer=None, sentence=None) for h in hits)
    return Answered(hits, answer, found)


def read_now(
    extractor: AnswerExtractor | None, result: SearchResult, question: str, rule: FoundRule
) -> Answered:
    """:func:`read` in the calling thread (the CLI and batch evaluation)."""
    return answered(extractor, result, question, all_spans(extractor, question, result.hits), rule)


async def read(
    extractor: AnswerExtractor | None, result: SearchResult, question: str, rule: FoundRule
) -> Answered:
    """Extract answer spans from every hit in one batch and choose the answer.

    ``question`` is what the user asked; ``result.query`` may carry a follow-up's
    context terms, which help finding passages but would confuse the span model.
    ``rule`` decides whether the answer is ``found``.
    """
    spans = await run_sync(all_spans, extractor, question, result.hits)
    return answered(extractor, result, question, spans, rule)


async def read_unless_gone(
    extractor: AnswerExtractor | None,
    result: SearchResult,
    question: str,
    rule: FoundRule,
    gone: Callable[[], Awaitable[bool]],
) -> Answered | None:
    """Like :func:`read`, passage by passage, stopping (None) once ``gone()`` says the
    client disconnected: a dropped stream costs at most the passage being read."""
    spans: list[AnswerSpans] = []
    for hit in result.hits:
        if await gone():
            return None
        spans.append(await run_sync(passage_spans, extractor, question, hit))
    return answered(extractor, result, question, spans, rule)
