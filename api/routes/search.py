"""``POST /v1/search``: ranked passages with citations."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.convert import hit_out, to_filter
from api.deps import ReadAccess, ServicesDep
from api.schemas import SearchRequest, SearchResponse, error_responses

router = APIRouter(tags=["search"], dependencies=[ReadAccess])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
def search(body: SearchRequest, services: ServicesDep) -> SearchResponse:
    """Rank the index's paragraphs for ``query``; each hit cites its document span."""
    started = time.perf_counter()
    result = services.retriever().search(body.query, body.top_k, body.mode, to_filter(body.filters))
    return SearchResponse(
        query=result.query,
        mode=result.mode,
        generation=result.generation,
        results=[hit_out(hit) for hit in result.hits],
        took_ms=round((time.perf_counter() - started) * 1000, 3),
    )
