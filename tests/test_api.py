"""The HTTP API with a fake encoder: shapes, status codes and readable errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from docqa.server import create_app
from docqa.settings import Settings
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths


def _client(index_dir: Path) -> TestClient:
    settings = Settings(index_dir=index_dir)
    return TestClient(create_app(settings, encoder_factory=lambda _s: [KeywordEncoder()]))


@pytest.fixture
def client(tmp_path: Path, corpus_dir: Path) -> Iterator[TestClient]:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    with _client(tmp_path / "idx") as test_client:
        yield test_client


def test_search_returns_cited_paragraphs(client: TestClient) -> None:
    response = client.post("/search", json={"query": "Who signed?", "top_k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "Who signed?" and body["took_ms"] >= 0
    assert len(body["results"]) == 2
    top = body["results"][0]
    assert "Alice Brown" in top["text"]
    cite = top["citation"]
    assert set(cite) >= {"document_id", "title", "source", "paragraph", "char_start", "char_end"}
    doc = client.get(f"/documents/{cite['document_id']}").json()
    assert doc["text"][cite["char_start"] : cite["char_end"]] == top["text"]
    assert (top["char_start"], top["char_end"]) == (cite["char_start"], cite["char_end"])


def test_default_top_k_and_mode(client: TestClient) -> None:
    body = client.post("/search", json={"query": "tea", "mode": "lexical"}).json()
    assert body["mode"] == "lexical" and 1 <= len(body["results"]) <= 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "x" * 5000}, "query"),
        ({"query": "tea", "top_k": 0}, "top_k"),
        ({"query": "tea", "top_k": 101}, "top_k"),
        ({"query": "tea", "top_k": "many"}, "top_k"),
        ({"query": "tea", "mode": "psychic"}, "mode"),
        ({}, "query"),
    ],
)
def test_bad_requests_get_readable_422(
    client: TestClient, payload: dict[str, object], field: str
) -> None:
    response = client.post("/search", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert field in error["message"] or "query" in error["message"]
    assert error["code"] in {"invalid_request", "invalid_query"}


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/search", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and "error" in response.json()


def test_health_and_documents(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model"] == "fake-keyword"
    assert health["passages"] == 6 and health["documents"] == 2
    docs = client.get("/documents").json()
    assert docs["total"] == 2
    assert {d["title"] for d in docs["documents"]} == {"The Harbour Treaty", "Green tea"}
    missing = client.get("/documents/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/search" in client.get("/openapi.json").json()["paths"]


def test_without_index_is_503_then_picks_it_up(tmp_path: Path, corpus_dir: Path) -> None:
    with _client(tmp_path / "idx") as client:
        assert client.get("/health").json()["status"] == "no_index"
        response = client.post("/search", json={"query": "tea"})
        assert response.status_code == 503 and "docqa index" in response.json()["error"]["message"]
        index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
        assert client.post("/search", json={"query": "tea"}).status_code == 200
