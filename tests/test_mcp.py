"""``docqa mcp``: every tool through the official SDK client, over stdio and HTTP."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from api.deps import Services
from docqa.mcp_server import build_server
from docqa.server import load_engines
from docqa.settings import Settings
from tests.api_support import TREATY_ANSWER, FakeExtractor, live_server
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"search", "ask", "list_documents", "get_document"}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mcp") / "docs"
    folder.mkdir()
    (folder / "treaty.md").write_text(
        "# The Harbour Treaty\n\n"
        "The treaty was signed by Mayor Alice Brown and Chief Tom Reed in 1901.\n\n"
        "It set the harbour fees at “two pennies” a ton.\n",
        encoding="utf-8",
    )
    (folder / "tea.txt").write_text(
        "Green tea\n\nGreen tea is grown on the hills above the river valley.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def index_dir(docs: Path) -> Path:
    index_paths(docs.parent / "idx", KeywordEncoder(), docs)
    return docs.parent / "idx"


@pytest.fixture(scope="module")
def http_url(index_dir: Path) -> Iterator[str]:
    settings = Settings(index_dir=index_dir)
    engines = load_engines(
        settings, lambda _s: [KeywordEncoder()], lambda _s: FakeExtractor([TREATY_ANSWER])
    )
    services = Services(settings, engines)
    app = build_server(services).streamable_http_app()
    with live_server(app) as url:  # type: ignore[arg-type]
        yield f"{url}/mcp"


def _stdio(index_dir: Path) -> StdioServerParameters:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "tests.mcp_worker", str(index_dir), TREATY_ANSWER],
        env=env,
        cwd=str(ROOT),
    )


async def _every_tool(server: Any, docs: Path) -> None:
    text = (docs / "treaty.md").read_text(encoding="utf-8")
    async with Client(server) as client:
        listed = await client.list_tools()
        assert {t.name for t in listed.tools} >= TOOLS
        assert all(t.output_schema for t in listed.tools if t.name in TOOLS)

        ask = await client.call_tool("ask", {"question": "Who signed the treaty?"})
        assert not ask.is_error
        body = ask.structured_content
        assert body["found"] is True and body["answer"]["text"] == TREATY_ANSWER
        answer = body["answer"]
        assert text[answer["char_start"] : answer["char_end"]] == TREATY_ANSWER
        cited = body["passages"][answer["citation"] - 1]
        citation = cited["citation"]
        assert citation["title"] == "The Harbour Treaty" and citation["source"] == "treaty.md"
        assert text[citation["char_start"] : citation["char_end"]] == cited["text"]

        search = await client.call_tool("search", {"query": "green tea hills", "top_k": 2})
        hits = search.structured_content["results"]
        assert hits[0]["citation"]["title"] == "Green tea" and len(hits) == 2
        assert not any(str(docs) in h["citation"]["source"] for h in hits)

        documents = await client.call_tool("list_documents", {})
        listed_docs = documents.structured_content["documents"]
        assert {d["title"] for d in listed_docs} == {"The Harbour Treaty", "Green tea"}
        treaty = next(d for d in listed_docs if d["title"] == "The Harbour Treaty")
        assert treaty["document_id"] == citation["document_id"]

        document = await client.call_tool("get_document", {"document_id": treaty["document_id"]})
        assert document.structured_content["text"] == text

        missing = await client.call_tool("get_document", {"document_id": "nope"})
        assert missing.is_error and "no document with id 'nope'" in str(missing.content)
        # The fake reader finds no answer in the tea paragraph: "not found", passage listed.
        tea = await client.call_tool("ask", {"question": "green tea hills", "top_k": 1})
        assert tea.structured_content["found"] is False
        assert tea.structured_content["answer"] is None
        assert tea.structured_content["passages"][0]["citation"]["title"] == "Green tea"


def test_every_tool_over_stdio(index_dir: Path, docs: Path) -> None:
    anyio.run(_every_tool, _stdio(index_dir), docs)


def test_every_tool_over_streamable_http(http_url: str, docs: Path) -> None:
    anyio.run(_every_tool, http_url, docs)
