"""``POST /v1/search``: ranked passages with citations."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response

from api.convert import search_response, to_filter
from api.deps import ReadAccess, ServicesDep
from api.schemas import SearchRequest, SearchResponse, error_responses
from retriever.answer.choice import marked_hits

router = APIRouter(tags=["search"], dependencies=[ReadAccess])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
def search(body: SearchRequest, services: ServicesDep) -> Response:
    """Rank the index's paragraphs for ``query``; each hit cites its document span.

    With ``answers``, each hit also carries its answer span and the sentence holding it,
    in document offsets (null where the span model finds none or is not installed).
    """
    started = time.perf_counter()
    result = services.retriever().search(body.query, body.top_k, body.mode, to_filter(body.filters))
    hits = (
        marked_hits(services.extractor, result.query, result.hits) if body.answers else result.hits
    )
    response = search_response(result, hits, services.show_source, started)
    # Serialised once, here: returned as a model, FastAPI would validate it against
    # ``response_model`` again before encoding it (the hot path of the service).
    return Response(response.model_dump_json(), media_type="application/json")
