"""Domain values → response models."""

from __future__ import annotations

from dataclasses import asdict

from api.schemas import CitationOut, DocumentOut, FiltersIn, HitOut, SpanOut
from index.filters import MetadataFilter
from index.models import DocumentInfo
from retriever.types import Hit, Span


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


def _span(span: Span | None) -> SpanOut | None:
    return None if span is None else SpanOut(**asdict(span))


def hit_out(hit: Hit) -> HitOut:
    return HitOut(
        rank=hit.rank,
        score=hit.score,
        passage_id=hit.passage_id,
        text=hit.text,
        char_start=hit.citation.char_start,
        char_end=hit.citation.char_end,
        citation=CitationOut(**asdict(hit.citation)),
        answer=_span(hit.answer),
        sentence=_span(hit.sentence),
    )


def document_out(info: DocumentInfo) -> DocumentOut:
    return DocumentOut(
        document_id=info.document_id,
        title=info.title,
        source=info.source,
        passages=info.n_passages,
        metadata=info.metadata,
    )
