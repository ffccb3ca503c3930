"""The /v1 API: search, ask (JSON and SSE), documents, health, metrics, error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api_support import TREATY_ANSWER, FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths


@pytest.fixture
def index_dir(tmp_path: Path, corpus_dir: Path) -> Path:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    return tmp_path / "idx"


@pytest.fixture
def extractor() -> FakeExtractor:
    return FakeExtractor([TREATY_ANSWER])


@pytest.fixture
def client(index_dir: Path, extractor: FakeExtractor) -> Iterator[TestClient]:
    with TestClient(make_app(index_dir, extractor)) as test_client:
        yield test_client


def _events(raw: str) -> list[tuple[str, dict[str, object]]]:
    events = []
    for block in raw.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_v1_search_and_alias_agree(client: TestClient) -> None:
    v1 = client.post("/v1/search", json={"query": "Who signed?", "top_k": 2})
    old = client.post("/search", json={"query": "Who signed?", "top_k": 2})
    assert v1.status_code == old.status_code == 200
    assert [r["passage_id"] for r in v1.json()["results"]] == [
        r["passage_id"] for r in old.json()["results"]
    ]
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/search"]["post"].get("deprecated") is True
    assert not paths["/v1/search"]["post"].get("deprecated")


def test_ask_returns_answer_in_document_offsets(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"query": "Who signed the treaty?", "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    answer = body["answer"]
    assert answer["text"] == TREATY_ANSWER
    assert answer["kind"] == "extracted" and answer["fallback"] is False
    cited = body["passages"][answer["citation"] - 1]
    assert cited["answer"]["text"] == TREATY_ANSWER
    doc = client.get(f"/v1/documents/{answer['document_id']}").json()
    # Passage-relative spans were shifted by the passage's offset into the document.
    assert doc["text"][answer["char_start"] : answer["char_end"]] == TREATY_ANSWER
    assert answer["char_start"] > cited["char_start"]
    sentence = cited["sentence"]
    assert doc["text"][sentence["char_start"] : sentence["char_end"]] == sentence["text"]


def test_search_marks_answers_in_every_hit_only_when_asked(
    client: TestClient, extractor: FakeExtractor
) -> None:
    plain = client.post("/v1/search", json={"query": "Who signed the treaty?", "top_k": 3})
    assert plain.status_code == 200
    assert all(h["answer"] is None and h["sentence"] is None for h in plain.json()["results"])
    assert extractor.calls == []  # no span model work unless asked
    body = client.post(
        "/v1/search", json={"query": "Who signed the treaty?", "top_k": 3, "answers": True}
    ).json()
    hits = body["results"]
    assert len(extractor.calls) == len(hits) == 3
    marked = [h for h in hits if h["answer"] is not None]
    assert marked and all(h["answer"]["text"] == TREATY_ANSWER for h in marked)
    for hit in marked:
        doc = client.get(f"/v1/documents/{hit['citation']['document_id']}").json()
        for key in ("answer", "sentence"):
            span = hit[key]
            assert doc["text"][span["char_start"] : span["char_end"]] == span["text"]
            assert hit["char_start"] <= span["char_start"] < span["char_end"] <= hit["char_end"]
    # Hits without the target carry no answer rather than a made-up one.
    assert all(h["answer"] is None for h in hits if TREATY_ANSWER not in h["text"])


def test_search_answers_refuse_many_hits(client: TestClient, extractor: FakeExtractor) -> None:
    """The span model runs per hit: answers for 100 hits would hold a request for seconds."""
    response = client.post("/v1/search", json={"query": "treaty", "top_k": 21, "answers": True})
    assert response.status_code == 422 and "at most 20 hits" in response.text
    assert extractor.calls == []
    ok = client.post("/v1/search", json={"query": "treaty", "top_k": 21})
    assert ok.status_code == 200


def test_ask_without_extractor_falls_back_to_a_marked_sentence(index_dir: Path) -> None:
    with TestClient(make_app(index_dir, None)) as client:
        assert client.get("/health").json()["answers"] == "fallback"
        body = client.post("/v1/ask", json={"query": "Who signed the treaty?"}).json()
    answer = body["answer"]
    assert answer["fallback"] is True and answer["kind"] == "sentence"
    assert "Alice Brown" in answer["text"]
    cited = body["passages"][answer["citation"] - 1]
    start = answer["char_start"] - cited["char_start"]
    assert cited["text"][start : start + len(answer["text"])] == answer["text"]


def test_ask_when_nothing_is_extracted_is_not_found(index_dir: Path) -> None:
    """The span model found no answer: "not found", with the closest passages listed."""
    with TestClient(make_app(index_dir, FakeExtractor(["no such text"]))) as client:
        body = client.post("/v1/ask", json={"query": "green tea hills"}).json()
    assert body["found"] is False and body["answer"] is None
    assert body["passages"] and all(p["answer"] is None for p in body["passages"])


def test_ask_below_found_min_score_is_not_found(index_dir: Path) -> None:
    """The fake reader's answers score 0.9: a stricter threshold turns them into "not found"."""
    extractor = FakeExtractor([TREATY_ANSWER])
    for threshold, found in ((0.5, True), (0.95, False)):
        app = make_app(index_dir, extractor, found_min_score=threshold)
        with TestClient(app) as client:
            body = client.post("/v1/ask", json={"query": "Who signed the treaty?"}).json()
        assert body["found"] is found
        assert (body["answer"] is not None) is found
        # The reader did mark a span; when it is not an answer, no passage shows one.
        marked = [p for p in body["passages"] if p["answer"] or p["sentence"]]
        assert bool(marked) is found


def test_ask_stream_sends_passages_then_answer_then_done(client: TestClient) -> None:
    with client.stream("POST", "/v1/ask", json={"query": "Who signed?", "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = "".join(r.iter_text())
    events = _events(raw)
    assert [name for name, _ in events] == ["passages", "answer", "done"]
    passages = events[0][1]["passages"]
    assert isinstance(passages, list) and passages[0]["citation"]["document_id"]
    answer = events[1][1]["answer"]
    assert isinstance(answer, dict) and answer["text"] == TREATY_ANSWER
    assert events[2][1]["took_ms"] >= 0  # type: ignore[operator]


def test_ask_stream_errors_before_streaming_are_json(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"query": "x" * 2001, "stream": True})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "invalid_query"  # the retriever's own check


def test_documents_v1(client: TestClient) -> None:
    docs = client.get("/v1/documents").json()
    assert docs["total"] == 2
    first = docs["documents"][0]
    one = client.get(f"/v1/documents/{first['document_id']}").json()
    assert one["metadata"] == first["metadata"] and one["text"]
    missing = client.get("/v1/documents/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_health_reports_extractive_answers(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["answers"] == "extractive"


def test_metrics_count_routes_and_index_size(client: TestClient) -> None:
    for _ in range(3):
        client.post("/v1/search", json={"query": "tea"})
    client.get("/v1/documents/nope")
    client.get("/no/such/path")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'docqa_http_requests_total{method="POST",route="/v1/search",status="200"} 3.0' in text
    assert 'route="/v1/documents/{document_id}",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    assert (
        'docqa_http_request_duration_seconds_bucket{le="0.5",method="POST",route="/v1/search"}'
        in text
    )
    assert "docqa_index_passages 6.0" in text and "docqa_index_documents 2.0" in text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("DELETE", "/health", 405), ("PUT", "/v1/search", 405)],
)
def test_every_error_has_the_one_shape(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) >= {"code", "message"} and error["code"] == f"http_{status}"


def test_unexpected_errors_are_500_in_the_error_shape(index_dir: Path) -> None:
    class Broken:
        def extract(self, question: str, passage: str) -> object:
            raise RuntimeError("boom /secret/path")

    app = make_app(index_dir, Broken())  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/ask", json={"query": "tea"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and "secret" not in error["message"]


def test_web_page_and_static_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js">' in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/v1/ask" in script.text
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_schema_states_the_configured_query_limit(index_dir: Path) -> None:
    with TestClient(make_app(index_dir, None, max_query_chars=300)) as client:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        too_long = client.post("/v1/search", json={"query": "x" * 301})
    assert schemas["SearchRequest"]["properties"]["query"]["maxLength"] == 300
    assert schemas["AskRequest"]["properties"]["query"]["maxLength"] == 300
    assert too_long.status_code == 422
    assert too_long.json()["error"]["message"] == "query is 301 characters; the limit is 300"


def test_a_query_over_the_schema_cap_is_told_the_configured_limit(index_dir: Path) -> None:
    """Past the request model's hard cap (20,000) pydantic answers first; the message
    still names the configured limit, not the cap."""
    with TestClient(make_app(index_dir, None, max_query_chars=300)) as client:
        for path in ("/v1/search", "/v1/ask"):
            response = client.post(path, json={"query": "x" * 20_001})
            assert response.status_code == 422
            message = response.json()["error"]["message"]
            assert "the limit is 300" in message and "20000" not in message, message


def test_422_messages_say_what_to_send(client: TestClient) -> None:
    """A form body gets told to send JSON; validator messages lose pydantic's prefix; a
    date bound must be a real date."""
    form = client.post("/v1/search", data={"query": "treaty"})
    assert form.status_code == 422
    message = form.json()["error"]["message"]
    assert "must be a JSON object" in message and "application/json" in message
    listed = client.post("/v1/search", json=["treaty"])
    assert listed.json()["error"]["message"] == "request body must be a JSON object"
    bad_date = {"query": "treaty", "filters": {"date_from": "2024-13-01"}}
    dated = client.post("/v1/search", json=bad_date).json()["error"]["message"]
    assert dated.startswith("filters.date_from: '2024-13-01' is not a date")
    nul = client.post("/v1/search", json={"query": "tre\u0000aty"}).json()["error"]["message"]
    assert nul.startswith("query: ") and "Value error" not in nul
    month = client.post("/v1/search", json={**bad_date, "filters": {"date_from": "2024-02"}})
    assert month.status_code == 200
    word = {"query": "treaty", "filters": {"date_from": "yesterday"}}
    said = client.post("/v1/search", json=word).json()["error"]["message"]
    assert said == "filters.date_from: 'yesterday' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
    crossed = {"query": "treaty", "filters": {"date_from": "2024-05", "date_to": "2024-01-31"}}
    said = client.post("/v1/search", json=crossed).json()["error"]["message"]
    assert said == "filters: date_from 2024-05 is after date_to 2024-01-31"
    same = {"query": "treaty", "filters": {"date_from": "2024-05", "date_to": "2024-05-31"}}
    assert client.post("/v1/search", json=same).status_code == 200
