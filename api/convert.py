"""Domain values ↔ request and response models."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from api.schemas import (
    AnswerOut,
    AskResponse,
    BoxOut,
    ChatCitation,
    ChatMessageIn,
    CitationOut,
    DocumentOut,
    FiltersIn,
    HitOut,
    SearchResponse,
    SpanOut,
)
from api.sources import SourceView
from index.filters import MetadataFilter
from index.formats.pdf.boxes import WordBoxRow, line_boxes
from index.models import DocumentInfo
from retriever.answer.chat import ChatTurn, Cited
from retriever.answer.choice import Answer
from retriever.answer.retrieve_read import Answered
from retriever.types import Citation, Hit, SearchResult, Span


def to_filter(filters: FiltersIn | None) -> MetadataFilter | None:
    if filters is None:
        return None
    tags = [filters.tags] if isinstance(filters.tags, str) else (filters.tags or [])
    return MetadataFilter(
        tags=tuple(tags),
        date_from=filters.date_from,
        date_to=filters.date_to,
        document_ids=tuple(filters.document_ids or ()),
        equals=dict(filters.metadata or {}),
    )


def _span_out(span: Span, words: Sequence[WordBoxRow] = ()) -> SpanOut:
    boxes = line_boxes(words, span.char_start, span.char_end) if words else []
    return SpanOut(**vars(span), boxes=[BoxOut(**vars(b)) for b in boxes])


def _span(span: Span | None, words: Sequence[WordBoxRow] = ()) -> SpanOut | None:
    return None if span is None else _span_out(span, words)


def _citation_out(citation: Citation) -> CitationOut:
    fields = {k: v for k, v in vars(citation).items() if k not in ("boxes", "words")}
    return CitationOut(**fields, boxes=[BoxOut(**vars(b)) for b in citation.boxes])


def hit_out(hit: Hit, show: SourceView) -> HitOut:
    """The hit as served; ``show`` turns its stored source into the public one."""
    citation = replace(hit.citation, source=show(hit.citation.source))
    words = hit.citation.words
    return HitOut(
        rank=hit.rank,
        score=hit.score,
        relevance=hit.relevance,
        passage_id=hit.passage_id,
        text=hit.text,
        char_start=hit.citation.char_start,
        char_end=hit.citation.char_end,
        citation=_citation_out(citation),
        answer=_span(hit.answer, words),
        sentence=_span(hit.sentence, words),
    )


def answer_out(answer: Answer | None, words: Sequence[WordBoxRow] = ()) -> AnswerOut | None:
    """The answer as served; ``words``: its passage's word boxes (PDFs), to box its spans."""
    if answer is None:
        return None
    return AnswerOut(
        text=answer.text,
        kind=answer.kind.value,
        fallback=answer.fallback,
        score=answer.score,
        citation=answer.passage + 1,
        document_id=answer.document_id,
        char_start=answer.span.char_start,
        char_end=answer.span.char_end,
        spans=[_span_out(span, words) for span in answer.spans],
    )


def found_answer(answered: Answered) -> AnswerOut | None:
    """The answer to show: none when the passages do not hold one."""
    if not answered.found or answered.answer is None:
        return None
    return answer_out(answered.answer, answered.hits[answered.answer.passage].citation.words)


def _took_ms(started: float | None) -> float:
    return 0.0 if started is None else round((time.perf_counter() - started) * 1000, 3)


def search_response(
    result: SearchResult, hits: Sequence[Hit], show: SourceView, started: float | None
) -> SearchResponse:
    """``hits`` of ``result`` as ``POST /v1/search`` and the MCP ``search`` tool return them.

    ``took_ms`` counts from ``started`` (a ``time.perf_counter()``); 0 when it is None.
    """
    results = [hit_out(hit, show) for hit in hits]
    return SearchResponse(
        query=result.query,
        mode=result.mode,
        generation=result.generation,
        results=results,
        took_ms=_took_ms(started),
    )


def ask_response(
    question: str,
    result: SearchResult,
    answered: Answered,
    show: SourceView,
    started: float | None,
) -> AskResponse:
    """``question``'s answer as ``POST /v1/ask`` and the MCP ``ask`` tool return it.

    ``took_ms`` counts from ``started`` (a ``time.perf_counter()``); 0 when it is None.
    """
    passages = [hit_out(h, show) for h in answered.hits]
    return AskResponse(
        query=question,
        search_query=result.query,
        mode=result.mode,
        generation=result.generation,
        found=answered.found,
        answer=found_answer(answered),
        passages=passages,
        took_ms=_took_ms(started),
    )


def chat_citations(cited: Sequence[Cited], show: SourceView) -> list[ChatCitation]:
    return [
        ChatCitation(
            number=c.number,
            document_id=c.hit.citation.document_id,
            passage_id=c.hit.passage_id,
            title=c.hit.citation.title,
            source=show(c.hit.citation.source),
            paragraph=c.hit.citation.paragraph,
            page=c.hit.citation.page,
            section=c.hit.citation.section,
            char_start=c.hit.citation.char_start,
            char_end=c.hit.citation.char_end,
            text=c.hit.text,
            answer=_span(c.hit.answer),
            score=c.hit.score,
        )
        for c in cited
    ]


def chat_turns(messages: Sequence[ChatMessageIn]) -> list[ChatTurn]:
    """Messages as plain text turns (text parts of multi-part content joined)."""
    turns = []
    for message in messages:
        content = message.content
        if isinstance(content, list):
            text = "\n".join(part.text for part in content if part.type == "text" and part.text)
        else:
            text = content or ""
        turns.append(ChatTurn(message.role, text))
    return turns


def document_out(info: DocumentInfo, show: SourceView) -> DocumentOut:
    return DocumentOut(
        document_id=info.document_id,
        title=info.title,
        source=show(info.source),  # never the server's absolute path (api/sources.py)
        passages=info.n_passages,
        metadata=info.metadata,
    )
