"""OpenAI-compatible ``POST /v1/chat/completions``: extractive answers with citations."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from api import sse
from api.convert import chat_citations, chat_turns, to_filter
from api.deps import ReadAccess, Services, ServicesDep
from api.errors import error_body
from api.schemas import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessageOut,
    Usage,
    error_responses,
)
from index.errors import DocqaError
from retriever.answer.chat import ChatReply, compose, question_of
from retriever.answer.retrieve_read import read, read_unless_gone, retrieve
from retriever.conversation import before_last_question, followup_query
from retriever.types import SearchResult

router = APIRouter(tags=["chat"], dependencies=[ReadAccess])


def _usage(question: str, content: str) -> Usage:
    # Word counts: there is no tokenizer-based generator to count tokens of.
    prompt, completion = len(question.split()), len(content.split())
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


class _Chunks:
    """``chat.completion.chunk`` objects of one streamed reply."""

    def __init__(self, ident: str, created: int, model: str) -> None:
        self.base = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }

    def __call__(
        self,
        delta: dict[str, str],
        finish: str | None = None,
        citations: object = None,
        found: bool | None = None,
    ) -> bytes:
        chunk: dict[str, object] = {
            **self.base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if citations is not None:
            chunk["citations"] = citations
        if found is not None:
            chunk["found"] = found
        return sse.event(None, chunk)


async def _stream(
    request: Request, services: Services, result: SearchResult, question: str, chunk: _Chunks
) -> AsyncIterator[bytes]:
    yield chunk({"role": "assistant", "content": ""})
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
        yield sse.event(None, {"error": body})
        return
    if answered is None:  # the client left
        return
    reply: ChatReply = compose(
        answered.answer if answered.found else None, answered.hits, services.show_source
    )
    cited = chat_citations(reply.cited, services.show_source)
    citations = [c.model_dump(mode="json") for c in cited]
    yield chunk({"content": reply.answer}, citations=citations)
    if reply.sources:
        yield chunk({"content": "\n\n" + reply.sources})
    yield chunk({}, finish="stop", citations=citations, found=answered.found)
    yield sse.event(None, "[DONE]")


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {
            "description": "A chat.completion, or with `stream: true` chat.completion.chunk "
            "events ending in `data: [DONE]`.",
            "content": sse.openapi_content(None),
        },
        **error_responses(400, 401, 403, 413, 422, 503),
    },
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, services: ServicesDep
) -> ChatCompletion | Response:
    """Answer the last user message from the documents, citing passages as [n].

    Earlier turns give a follow-up its context: their key terms join the search query,
    weighted below the question. The reply text is built only from retrieved passages;
    `citations` lists them with document offsets (also in the stream's chunks).
    """
    limit = services.settings.max_query_chars
    turns = chat_turns(body.messages)
    question = question_of(turns, limit)
    query = followup_query(question, before_last_question(turns), max_chars=limit)
    result = await retrieve(
        services.retriever(), query, body.top_k, body.mode, to_filter(body.filters), question
    )
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return StreamingResponse(
            _stream(request, services, result, question, _Chunks(ident, created, body.model)),
            media_type=sse.MEDIA_TYPE,
            headers=sse.HEADERS,
        )
    answered = await read(services.extractor, result, question, services.found_rule)
    reply = compose(
        answered.answer if answered.found else None, answered.hits, services.show_source
    )
    return ChatCompletion(
        id=ident,
        created=created,
        model=body.model,
        choices=[ChatChoice(message=ChatMessageOut(content=reply.content))],
        usage=_usage(question, reply.content),
        citations=chat_citations(reply.cited, services.show_source),
        found=answered.found,
    )
