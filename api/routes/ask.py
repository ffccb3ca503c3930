"""``POST /v1/ask``: the best answer and the cited passages, as JSON or Server-Sent Events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from api import sse
from api.convert import ask_response, found_answer, hit_out, to_filter
from api.deps import ReadAccess, Services, ServicesDep
from api.errors import error_body
from api.schemas import AskRequest, AskResponse, error_responses
from index.errors import DocqaError
from retriever.answer.chat import ChatTurn
from retriever.answer.retrieve_read import read, read_unless_gone, retrieve
from retriever.conversation import followup_query
from retriever.types import Hit, SearchResult

router = APIRouter(tags=["ask"], dependencies=[ReadAccess])

_STREAM_DOC = (
    "With `stream: true`: `event: passages` (the ranked passages with citations), then "
    "`event: answer` (`found`, the answer and each passage's answer spans), then `event: done`; "
    "`event: error` with the error shape if reading fails midway."
)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _spans(hit: Hit, services: Services) -> dict[str, object]:
    out = hit_out(hit, services.show_source)
    return {"rank": out.rank, **out.model_dump(mode="json", include={"answer", "sentence"})}


async def _events(
    request: Request, services: Services, result: SearchResult, question: str, started: float
) -> AsyncIterator[bytes]:
    yield sse.event(
        "passages",
        {
            "query": question,
            "search_query": result.query,
            "mode": result.mode.value,
            "generation": result.generation,
            "passages": [
                hit_out(h, services.show_source).model_dump(mode="json") for h in result.hits
            ],
        },
    )
    try:
        answered = await read_unless_gone(
            services.extractor,
            result,
            question,
            services.found_rule,
            request.is_disconnected,
        )
    except DocqaError as exc:
        _, body = error_body(exc)
        yield sse.event("error", {"error": body})
        return
    if answered is None:  # the client left: no answer to compute or send
        return
    yield sse.event(
        "answer",
        {
            "found": answered.found,
            "answer": (a.model_dump(mode="json") if (a := found_answer(answered)) else None),
            "spans": [_spans(h, services) for h in answered.hits],
        },
    )
    yield sse.event("done", {"took_ms": _ms(started)})


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        200: {
            "description": "The answer (JSON), or with `stream: true` an event stream.",
            "content": sse.openapi_content(["passages", "answer", "done", "error"]),
        },
        **error_responses(400, 401, 403, 413, 422, 503),
    },
    description=_STREAM_DOC,
)
async def ask(body: AskRequest, request: Request, services: ServicesDep) -> AskResponse | Response:
    """Answer ``query`` from the top passages, citing the passage the answer comes from."""
    started = time.perf_counter()
    question = body.query.strip()
    earlier = [ChatTurn(t.role, t.content) for t in body.conversation]
    query = followup_query(question, earlier, max_chars=services.settings.max_query_chars)
    # Retrieval errors (no index, bad query) happen before any event, as plain JSON errors.
    result = await retrieve(
        services.retriever(), query, body.top_k, body.mode, to_filter(body.filters), question
    )
    if body.stream:
        return StreamingResponse(
            _events(request, services, result, question, started),
            media_type=sse.MEDIA_TYPE,
            headers=sse.HEADERS,
        )
    answered = await read(services.extractor, result, question, services.found_rule)
    return ask_response(question, result, answered, services.show_source, started)
