"""Size limits and keys are checked from the headers, before a body is read.

Each test opens a raw socket, sends the headers of a 40 MB request and only a little of
its body, then waits for the answer: a server that read the body would wait for the
rest and never answer, so an answer proves the body was not read.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api_support import live_server, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

KEY = "limits-write-key"
FORTY_MB = 40 * 1024 * 1024
SENT = 64 * 1024  # of the body, before waiting for the answer
WAIT_S = 20.0  # far above any answer time; only a server reading the body runs into it


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("limits")
    docs = root / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A lighthouse.", encoding="utf-8")
    index_paths(root / "idx", KeywordEncoder(), docs)
    app = make_app(root / "idx", api_keys_write=[KEY], max_upload_bytes=50 * 1024 * 1024)
    with live_server(app) as url:
        yield url


def _status_after_headers(base_url: str, path: str, content_type: str, key: str | None) -> int:
    parts = urlsplit(base_url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {FORTY_MB}\r\n"
        + (f"Authorization: Bearer {key}\r\n" if key else "")
        + "\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=WAIT_S) as sock:
        sock.sendall(head + b"x" * SENT)
        answer = sock.recv(4096)  # raises socket.timeout if the server waits for the body
    status_line = answer.split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    ("path", "content_type", "key", "expected"),
    [
        ("/v1/search", "application/json", None, {401, 413}),
        ("/v1/search", "multipart/form-data; boundary=x", None, {401, 413}),
        ("/v1/documents", "multipart/form-data; boundary=x", None, {401}),
        ("/v1/chat/completions", "application/json", "wrong-key", {401, 413}),
        # With the key: a 40 MB upload is within the 50 MB limit, but a 40 MB search is not,
        # whatever content type it claims.
        ("/v1/search", "multipart/form-data; boundary=x", KEY, {413}),
    ],
)
def test_large_bodies_are_refused_from_their_headers(
    base_url: str, path: str, content_type: str, key: str | None, expected: set[int]
) -> None:
    assert _status_after_headers(base_url, path, content_type, key) in expected


def test_an_upload_with_a_read_only_key_is_refused_before_its_body(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A lighthouse.", encoding="utf-8")
    index_paths(tmp_path / "idx", KeywordEncoder(), docs)
    app = make_app(tmp_path / "idx", api_keys_read=["reader"], api_keys_write=[KEY])
    with live_server(app) as url:
        status = _status_after_headers(url, "/v1/documents", "multipart/form-data; b=x", "reader")
    assert status == 403
