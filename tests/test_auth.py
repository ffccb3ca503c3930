"""Optional API keys (read / write scopes) and CORS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.auth import KeyRing, Scope
from docqa.settings import Settings
from tests.api_support import make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

READ, WRITE = "read-key-1", "write-key-1"


@pytest.fixture
def client(tmp_path: Path, corpus_dir: Path) -> Iterator[TestClient]:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    app = make_app(
        tmp_path / "idx",
        api_keys_read=[READ],
        api_keys_write=[WRITE],
        cors_origins=["https://chat.example"],
    )
    with TestClient(app) as test_client:
        yield test_client


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _upload(client: TestClient, headers: dict[str, str]) -> int:
    files = [("files", ("k.txt", b"Keyed upload text.", "text/plain"))]
    return client.post("/v1/documents", files=files, headers=headers).status_code


READS = [
    ("POST", "/v1/search", {"query": "tea"}),
    ("POST", "/search", {"query": "tea"}),
    ("POST", "/v1/ask", {"query": "tea"}),
    ("GET", "/v1/documents", None),
    ("GET", "/v1/models", None),
    ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "tea"}]}),
]


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_read_endpoints_need_a_key(
    client: TestClient, method: str, path: str, body: object
) -> None:
    missing = client.request(method, path, json=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.request(method, path, json=body, headers=_bearer("nope"))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    for key in (READ, WRITE):  # a write key can read too
        assert client.request(method, path, json=body, headers=_bearer(key)).status_code == 200
    assert client.request(method, path, json=body, headers={"x-api-key": READ}).status_code == 200


def test_write_endpoints_need_a_write_key(client: TestClient, tmp_path: Path) -> None:
    assert _upload(client, {}) == 401
    assert _upload(client, _bearer("nope")) == 401
    read_only = client.post(
        "/v1/documents",
        files=[("files", ("k.txt", b"x", "text/plain"))],
        headers=_bearer(READ),
    )
    assert read_only.status_code == 403
    assert read_only.json()["error"]["code"] == "insufficient_scope"
    assert not (tmp_path / "uploads" / "k.txt").exists()
    assert _upload(client, {"x-api-key": WRITE}) == 201
    doc_id = client.get("/v1/documents", headers=_bearer(READ)).json()["documents"][0][
        "document_id"
    ]
    assert client.delete(f"/v1/documents/{doc_id}").status_code == 401
    assert client.delete(f"/v1/documents/{doc_id}", headers=_bearer(READ)).status_code == 403
    assert client.delete(f"/v1/documents/{doc_id}", headers=_bearer(WRITE)).status_code == 200


def test_health_metrics_and_page_stay_open(client: TestClient) -> None:
    for path in ("/health", "/metrics", "/", "/static/app.js"):
        assert client.get(path).status_code == 200, path


def test_no_keys_means_open(tmp_path: Path, corpus_dir: Path) -> None:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    with TestClient(make_app(tmp_path / "idx")) as client:
        assert client.post("/v1/search", json={"query": "tea"}).status_code == 200
        assert _upload(client, {}) == 201


def test_keyring_rules() -> None:
    ring = KeyRing.of(["r"], ["w", ""])
    ring.check("w", Scope.WRITE)
    ring.check("r", Scope.READ)
    assert KeyRing.of([], [""]).enabled is False


def test_keys_and_origins_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCQA_API_KEYS_READ", "a, b")
    monkeypatch.setenv("DOCQA_API_KEYS_WRITE", '["c"]')
    monkeypatch.setenv("DOCQA_CORS_ORIGINS", "https://x.example")
    settings = Settings()
    assert settings.api_keys_read == ["a", "b"] and settings.api_keys_write == ["c"]
    assert settings.cors_origins == ["https://x.example"]


def test_cors_allows_configured_origins_only(client: TestClient) -> None:
    preflight = client.options(
        "/v1/chat/completions",
        headers={
            "origin": "https://chat.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://chat.example"
    other = client.get("/health", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    ok = client.get("/health", headers={"origin": "https://chat.example"})
    assert ok.headers["access-control-allow-origin"] == "https://chat.example"
