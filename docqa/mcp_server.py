"""``docqa mcp``: the index as Model Context Protocol tools (official ``mcp`` SDK).

Tools: ``search``, ``ask``, ``list_documents`` and ``get_document``. Their structured
results are the HTTP API's own response models, so a citation is the same object
whether it comes over HTTP or MCP (document id, title, public source, paragraph and
character offsets into the document text).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from anyio.to_thread import run_sync
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from api.convert import ask_response, document_out, search_response
from api.deps import Services
from api.schemas import (
    ASK_MAX_TOP_K,
    AskResponse,
    DocumentList,
    DocumentText,
    SearchResponse,
)
from api.schemas.ask import MAX_TURNS, TurnIn
from docqa.settings import Settings
from index.errors import DocqaError
from retriever.answer.chat import ChatTurn
from retriever.answer.retrieve_read import read, retrieve
from retriever.conversation import followup_query
from retriever.searcher import MAX_TOP_K

logger = logging.getLogger(__name__)

Transport = Literal["stdio", "http"]
INSTRUCTIONS = (
    "docqa answers questions from an indexed document collection. Use `ask` for a "
    "question (it returns the extracted answer, or found=false, with cited passages), "
    "`search` for ranked passages, `list_documents` and `get_document` to read sources. "
    "Cite passages by their document title and paragraph."
)


@contextmanager
def _told() -> Iterator[None]:
    """Domain errors reach the client with their message (the SDK hides other errors)."""
    try:
        yield
    except DocqaError as exc:
        raise ToolError(str(exc)) from exc


def load_services(settings: Settings) -> Services:
    """The encoders, span model and index the tools use, loaded once for every session."""
    from docqa.server import load_engines

    return Services(settings, load_engines(settings))


def build_server(services: Services) -> MCPServer[None]:
    """The MCP server over ``services`` (built by :func:`load_services`, or by tests)."""

    server: MCPServer[None] = MCPServer("docqa", instructions=INSTRUCTIONS)

    @server.tool(description="Rank the indexed paragraphs for a query, with citations.")
    async def search(
        query: Annotated[str, Field(min_length=1, description="What to look for.")],
        top_k: Annotated[int, Field(ge=1, le=MAX_TOP_K, description="Passages to return.")] = 5,
    ) -> SearchResponse:
        with _told():
            result = await retrieve(services.retriever(), query, top_k, None, None)
            return search_response(result, result.hits, services.show_source, None)

    @server.tool(
        description="Answer a question from the documents: the extracted answer with the "
        "passage it cites, or found=false (answer null) when the documents do not hold it. "
        "When the passage gives several answers (two signers), answer.spans lists them all, "
        "the best first. Pass earlier turns in `conversation` for a follow-up question."
    )
    async def ask(
        question: Annotated[str, Field(min_length=1, description="The question.")],
        top_k: Annotated[int, Field(ge=1, le=ASK_MAX_TOP_K, description="Passages to read.")] = 5,
        conversation: Annotated[
            list[TurnIn] | None, Field(max_length=MAX_TURNS, description="Earlier turns.")
        ] = None,
    ) -> AskResponse:
        with _told():
            limit = services.settings.max_query_chars
            earlier = [ChatTurn(t.role, t.content) for t in conversation or []]
            query = followup_query(question.strip(), earlier, max_chars=limit)
            result = await retrieve(
                services.retriever(), query, top_k, None, None, question.strip()
            )
            answered = await read(services.extractor, result, question.strip(), services.found_rule)
            return ask_response(question.strip(), result, answered, services.show_source, None)

    @server.tool(description="Every indexed document with its id, title and passage count.")
    async def list_documents() -> DocumentList:
        with _told():
            docs = await run_sync(lambda: services.retriever().handle.current().store.documents())
            return DocumentList(
                documents=[document_out(d, services.show_source) for d in docs],
                total=len(docs),
            )

    @server.tool(
        description="One document's full text: citation offsets (char_start, char_end) "
        "index into it."
    )
    async def get_document(
        document_id: Annotated[str, Field(min_length=1, description="From a citation.")],
    ) -> DocumentText:
        with _told():
            store = services.retriever().handle.current().store
            info = await run_sync(store.document, document_id)  # or DocumentNotFoundError
            text = await run_sync(store.document_text, document_id)
            public = document_out(info, services.show_source)
            return DocumentText(**public.model_dump(), text=text)

    return server


def run(settings: Settings, transport: Transport, host: str, port: int) -> None:
    """Serve until stopped: stdio for a client that starts docqa itself, or streamable
    HTTP at ``http://HOST:PORT/mcp``."""
    server = build_server(load_services(settings))
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
