"""Client input that used to cost a 500 or leak the server's layout gets a clear 4xx.

Each case is one the attack on a live server found (issue 17); the fake encoder and a
fake extractor stand in for the models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.errors import without_paths
from docqa.cli import app as cli
from index.lifecycle.ingest import MAX_NAME_BYTES
from retriever.answer.chat import escape_markdown
from tests.api_support import TREATY_ANSWER, FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

TXT = "text/plain"


@pytest.fixture
def root(tmp_path: Path, corpus_dir: Path) -> Path:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    return tmp_path


@pytest.fixture
def client(root: Path) -> Iterator[TestClient]:
    app = make_app(root / "idx", FakeExtractor([TREATY_ANSWER]), max_metadata_bytes=4096)
    with TestClient(app) as c:
        yield c


def _raw_json(client: TestClient, path: str, body: str) -> Any:
    # Raw text, so a JSON "\ud800" escape reaches the server as a lone surrogate.
    return client.post(path, content=body.encode(), headers={"content-type": "application/json"})


def _assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and field in error["message"], error


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "treaty", "top_k": "5"}, "top_k"),
        ({"query": "treaty", "top_k": True}, "top_k"),
        ({"query": "treaty", "top_k": 5.5}, "top_k"),
        ({"query": "treaty", "answers": "yes"}, "answers"),
        ({"query": "\u200b\u200b\u2060"}, "query"),
        ({"query": "treaty\x00"}, "query"),
        ({"query": "treaty", "filters": {"date_from": "2020' OR '1'='1"}}, "date_from"),
        ({"query": "treaty", "filters": {"date_to": "2020-01-01junk"}}, "date_to"),
        ({"query": "treaty", "filters": {"tags": ["\ufeff"]}}, "tags"),
    ],
)
def test_search_refuses_loose_types_and_invisible_text(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    _assert_refused(client.post("/v1/search", json=body), field)


def test_lone_surrogates_are_refused_on_every_route(client: TestClient) -> None:
    # Refused by pydantic's own string check or by the text rule; either names the field.
    cases = [
        ("/v1/search", '{"query": "treaty \\ud800"}', "query"),
        ("/v1/ask", '{"query": "\\udc00 who signed"}', "query"),
        (
            "/v1/chat/completions",
            '{"messages": [{"role": "user", "content": "who \\ud83d"}]}',
            "messages",
        ),
        (
            "/v1/chat/completions",
            '{"stream": true, "messages": [{"role": "user", "content": "\\ud800"}]}',
            "messages",
        ),
        (
            "/v1/chat/completions",
            '{"messages": [{"role": "user", "content": [{"type": "text", "text": "\\ud800"}]}]}',
            "messages",
        ),
        (
            "/v1/chat/completions",
            '{"model": "\\ud800", "messages": [{"role": "user", "content": "x"}]}',
            "model",
        ),
    ]
    for path, body, field in cases:
        _assert_refused(_raw_json(client, path, body), field)
    # A surrogate in a metadata key comes back in the error's field name: still valid JSON.
    keyed = '{"query": "treaty", "filters": {"metadata": {"\\ud800": "x"}}}'
    _assert_refused(_raw_json(client, "/v1/search", keyed), "surrogate")


def test_strict_types_still_accept_the_documented_shapes(client: TestClient) -> None:
    ok = client.post("/v1/search", json={"query": "treaty", "top_k": 2, "answers": True})
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["results"]) == 2
    filtered = client.post(
        "/v1/search", json={"query": "treaty", "filters": {"date_from": "2020-01"}}
    )
    assert filtered.status_code == 200, filtered.text


def _upload(client: TestClient, name: str, data: bytes, metadata: str | None = None) -> Any:
    form = {} if metadata is None else {"metadata": metadata}
    return client.post("/v1/documents", files=[("files", (name, data, TXT))], data=form)


@pytest.mark.parametrize(
    ("metadata", "status", "words"),
    [
        ('{"title": "\\ud800"}', 422, "surrogate"),
        ('{"tags": ["ok", "\\u0000"]}', 422, "NUL"),
        ("[" * 50_000 + "]" * 50_000, 413, "DOCQA_MAX_METADATA_BYTES"),
        ("[" * 2_000 + "{}" + "]" * 2_000, 422, "nested"),
        ('{"a": {"b": {"c": {"d": {"e": 1}}}}}', 422, "nested deeper than 4"),
    ],
)
def test_upload_metadata_is_bounded_and_checked(
    client: TestClient, root: Path, metadata: str, status: int, words: str
) -> None:
    response = _upload(client, "note.txt", b"A note about tea.", metadata)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]
    assert not (root / "uploads" / "note.txt").exists()


def test_metadata_within_the_bounds_is_kept(client: TestClient) -> None:
    response = _upload(client, "note.txt", b"A note about tea.", '{"a": {"b": {"c": [1]}}}')
    assert response.status_code == 201, response.text


def test_file_names_must_leave_room_for_the_sidecar(client: TestClient, root: Path) -> None:
    fits = "a" * (MAX_NAME_BYTES - 4) + ".txt"
    too_long = "b" * (MAX_NAME_BYTES - 3) + ".txt"  # 246 bytes: fits alone, not its sidecar
    refused = _upload(client, too_long, b"Some text.")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "unsafe_filename"
    assert _upload(client, fits, b"Some text.").status_code == 201
    assert (root / "uploads" / fits).exists()


def test_cli_reports_an_over_long_name_per_file(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "good.txt").write_text("The good file about lighthouses.", encoding="utf-8")
    (folder / ("c" * 246 + ".txt")).write_text("Too long a name.", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["index", str(folder), "--index-dir", str(tmp_path / "idx2")], env={"DOCQA_E5": "0"}
    )
    output = result.output
    assert result.exit_code == 1, output
    assert "file name is 250 bytes" in output and "1 file(s) could not be indexed" in output
    assert "1 documents" in output  # the good file was indexed all the same


def test_no_server_paths_in_responses(client: TestClient, root: Path) -> None:
    server_paths = (str(root), str(root.resolve()))
    bad = _upload(client, "broken.txt", b"\xff\xfe not utf-8 \xff")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unreadable_file"
    assert bad.json()["error"]["message"].startswith("broken.txt: ")
    assert _upload(client, "kept.txt", b"The kept file names a lighthouse.").status_code == 201
    bodies = [
        bad.text,
        client.get("/v1/documents").text,
        client.post("/v1/search", json={"query": "lighthouse treaty"}).text,
        client.post("/v1/ask", json={"query": "Who signed the treaty?"}).text,
        client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "treaty"}]}
        ).text,
    ]
    for body in bodies:
        assert not any(p in body for p in server_paths), body[:500]
    sources = {d["source"] for d in client.get("/v1/documents").json()["documents"]}
    assert sources == {"treaty.md", "tea.txt", "kept.txt"}


def test_no_index_error_names_no_server_path(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path / "nowhere" / "idx")) as c:
        response = c.post("/v1/search", json={"query": "anything"})
    assert response.status_code == 503
    assert str(tmp_path) not in response.text and "idx" in response.json()["error"]["message"]
    assert without_paths("cannot open /srv/data/idx/gen-000001") == "cannot open gen-000001"


def test_operators_may_expose_absolute_sources(root: Path) -> None:
    app = make_app(root / "idx", show_source_paths=True)
    with TestClient(app) as c:
        sources = [d["source"] for d in c.get("/v1/documents").json()["documents"]]
    assert all(Path(s).is_absolute() for s in sources)


def test_chat_content_shows_document_markup_as_text(root: Path, tmp_path: Path) -> None:
    app = make_app(root / "idx", FakeExtractor(["<script>alert(1)</script>"]))
    html = b"<p>The payload is &lt;script&gt;alert(1)&lt;/script&gt; in the page.</p>"
    with TestClient(app) as c:
        upload = c.post("/v1/documents", files=[("files", ("evil.html", html, "text/html"))])
        assert upload.status_code == 201, upload.text
        reply = c.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "payload"}]}
        ).json()
    content = reply["choices"][0]["message"]["content"]
    assert "<script>" not in content and "\\<script\\>" in content
    assert reply["citations"][0]["text"].count("<script>") == 1  # structured: unescaped
    assert escape_markdown("[a](javascript:x) *b*") == "\\[a\\](javascript:x) \\*b\\*"


def test_validation_messages_are_json_even_for_odd_keys(client: TestClient) -> None:
    body = json.dumps({"query": "treaty", "filters": {"metadata": {"k": {"nested": 1}}}})
    response = _raw_json(client, "/v1/search", body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("path", "body", "at", "reason"),
    [
        ("/v1/search", '{"query": "treaty",', 19, "Expecting property name"),
        ("/v1/search", '{"query": "treaty"} trailing', 20, "Extra data"),
        ("/v1/ask", "nope", 0, "Expecting value"),
    ],
)
def test_unparsable_json_names_the_body_and_where(
    client: TestClient, path: str, body: str, at: int, reason: str
) -> None:
    response = _raw_json(client, path, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    # The character offset is where parsing stopped, not a field name.
    assert error["details"] == [{"field": "body", "message": error["message"]}]
    assert error["message"].startswith(f"request body is not valid JSON (at character {at}): ")
    assert reason in error["message"]
