"""Citation sources over HTTP never show the server's absolute paths (unless enabled),
and a citation's paragraph can be fetched with its neighbours."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.sources import public_source
from tests.api_support import TREATY_ANSWER, FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

QUESTION = "Who signed the treaty?"


@pytest.fixture
def index_dir(tmp_path: Path, corpus_dir: Path) -> Path:
    nested = corpus_dir / "archive" / "2024"
    nested.mkdir(parents=True)
    (nested / "minutes.txt").write_text(
        "Minutes\n\nThe treaty was read aloud at the harbour meeting.\n", encoding="utf-8"
    )
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    return tmp_path / "idx"


def test_public_source_rules() -> None:
    assert public_source("/srv/docs/a/b.txt") == "b.txt"
    assert public_source("/srv/docs/a/b.txt", root="/srv/docs") == "a/b.txt"
    assert public_source("/elsewhere/b.txt", root="/srv/docs") == "b.txt"
    assert public_source("C:\\data\\report.pdf") == "report.pdf"
    assert public_source("https://example.org/a.html") == "https://example.org/a.html"
    assert public_source("/srv/docs/a/b.txt", absolute=True) == "/srv/docs/a/b.txt"


def _responses(client: TestClient) -> list[str]:
    """The raw text of every response that carries citations."""
    bodies = [
        client.post("/v1/search", json={"query": "treaty", "top_k": 10, "answers": True}).text,
        client.post("/v1/ask", json={"query": QUESTION}).text,
        client.post("/v1/ask", json={"query": QUESTION, "stream": True}).text,
    ]
    messages = [{"role": "user", "content": QUESTION}]
    bodies.append(client.post("/v1/chat/completions", json={"messages": messages}).text)
    bodies.append(
        client.post("/v1/chat/completions", json={"messages": messages, "stream": True}).text
    )
    ask = client.post("/v1/ask", json={"query": QUESTION}).json()
    cite = ask["passages"][0]["citation"]
    path = f"/v1/documents/{cite['document_id']}/passages?around={cite['paragraph']}"
    bodies.append(client.get(path).text)
    return bodies


def test_no_absolute_server_path_in_responses(index_dir: Path, corpus_dir: Path) -> None:
    root = str(corpus_dir.resolve())
    with TestClient(make_app(index_dir, FakeExtractor([TREATY_ANSWER]))) as client:
        bodies = _responses(client)
        search = client.post("/v1/search", json={"query": "treaty harbour meeting"}).json()
    assert all(body and root not in body and str(corpus_dir) not in body for body in bodies)
    assert {r["citation"]["source"] for r in search["results"]} >= {"treaty.md", "minutes.txt"}


def test_sources_relative_to_the_root_or_absolute_when_enabled(
    index_dir: Path, corpus_dir: Path
) -> None:
    query = {"query": "treaty harbour meeting", "top_k": 10}
    app = make_app(index_dir, None, source_root=corpus_dir)
    with TestClient(app) as client:
        sources = {
            r["citation"]["source"] for r in client.post("/v1/search", json=query).json()["results"]
        }
    assert "archive/2024/minutes.txt" in sources and "treaty.md" in sources
    with TestClient(make_app(index_dir, None, show_source_paths=True)) as client:
        sources = {
            r["citation"]["source"] for r in client.post("/v1/search", json=query).json()["results"]
        }
    assert str((corpus_dir / "treaty.md").resolve()) in sources


def test_passage_context_is_bounded(index_dir: Path, corpus_dir: Path) -> None:
    text = (corpus_dir / "treaty.md").read_text(encoding="utf-8")
    with TestClient(make_app(index_dir, None, max_context_paragraphs=1)) as client:
        ask = client.post("/v1/ask", json={"query": QUESTION}).json()
        cite = next(p for p in ask["passages"] if p["citation"]["title"] == "The Harbour Treaty")
        doc, paragraph = cite["citation"]["document_id"], cite["citation"]["paragraph"]
        wide = client.get(f"/v1/documents/{doc}/passages?around={paragraph}&radius=50").json()
        assert client.get("/v1/documents/nope/passages?around=0").status_code == 404
        assert client.get(f"/v1/documents/{doc}/passages?around=-1").status_code == 422
    numbers = [p["paragraph"] for p in wide["passages"]]
    assert all(abs(n - paragraph) <= 1 for n in numbers) and paragraph in numbers
    assert wide["title"] == "The Harbour Treaty" and wide["source"] == "treaty.md"
    for passage in wide["passages"]:
        assert text[passage["char_start"] : passage["char_end"]] == passage["text"]
