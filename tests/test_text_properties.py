"""Property tests: arbitrary Unicode in every text field of every request never gets a 5xx.

Text that breaks the one text rule (lone surrogates, NUL, invisible-only) is refused
with 422 wherever it appears; the rest is served. Bodies are sent as raw JSON text, so a
lone surrogate reaches the server as the ``\\udXXX`` escape a hostile client would send.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.formats.textcheck import text_problem
from tests.api_support import TREATY_ANSWER, FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

# Any code point, with the troublesome ones drawn often.
_HOSTILE = st.sampled_from(["\ud800", "\udfff", "\x00", "\u200b", "\ufeff", "\u2060", " ", "\n"])
TEXT = st.text(st.characters(exclude_categories=()) | _HOSTILE, max_size=40)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

Body = Callable[[str], dict[str, object]]
FIELDS: dict[str, tuple[str, Body]] = {
    "search.query": ("/v1/search", lambda t: {"query": t}),
    "search.tags": ("/v1/search", lambda t: {"query": "treaty", "filters": {"tags": [t]}}),
    "search.tag": ("/v1/search", lambda t: {"query": "treaty", "filters": {"tags": t}}),
    "search.date": ("/v1/search", lambda t: {"query": "treaty", "filters": {"date_from": t}}),
    "search.ids": ("/v1/search", lambda t: {"query": "x", "filters": {"document_ids": [t]}}),
    "search.meta_key": ("/v1/search", lambda t: {"query": "x", "filters": {"metadata": {t: 1}}}),
    "search.meta_value": (
        "/v1/search",
        lambda t: {"query": "treaty", "filters": {"metadata": {"k": t}}},
    ),
    "ask.query": ("/v1/ask", lambda t: {"query": t, "top_k": 2}),
    "chat.content": (
        "/v1/chat/completions",
        lambda t: {"messages": [{"role": "user", "content": t}]},
    ),
    "chat.part": (
        "/v1/chat/completions",
        lambda t: {"messages": [{"role": "user", "content": [{"type": "text", "text": t}]}]},
    ),
    "chat.system": (
        "/v1/chat/completions",
        lambda t: {
            "messages": [{"role": "system", "content": t}, {"role": "user", "content": "x"}]
        },
    ),
    "chat.model": (
        "/v1/chat/completions",
        lambda t: {"model": t, "messages": [{"role": "user", "content": "treaty"}]},
    ),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("props")
    docs = root / "docs"
    docs.mkdir()
    (docs / "treaty.md").write_text(
        "# The Harbour Treaty\n\nThe treaty was signed by Mayor Alice Brown in 1901.\n",
        encoding="utf-8",
    )
    index_paths(root / "idx", KeywordEncoder(), docs)
    with TestClient(make_app(root / "idx", FakeExtractor([TREATY_ANSWER]))) as c:
        yield c


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_any_text_in_any_field_gets_an_answer_or_a_422(client: TestClient, field: str) -> None:
    path, body = FIELDS[field]

    @PROPERTY
    @given(text=TEXT)
    def check(text: str) -> None:
        raw = json.dumps(body(text))  # ensure_ascii: surrogates travel as \udXXX escapes
        response = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code < 500, (text, response.text)
        assert response.headers["content-type"].startswith(("application/json", "text/event"))
        if text_problem(text) is not None:
            assert response.status_code == 422, (text, response.text)

    check()


@settings(PROPERTY, max_examples=20)  # each accepted example is a commit
@given(name=st.text(st.characters() | _HOSTILE.filter(str.isprintable), max_size=30), meta=TEXT)
def test_any_upload_name_or_metadata_text_gets_a_4xx_or_is_stored(
    client: TestClient, name: str, meta: str
) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return  # a multipart file name cannot carry a lone surrogate at all
    response = client.post(
        "/v1/documents",
        files=[("files", (f"{name}.txt", b"A note.", "text/plain"))],
        data={"metadata": json.dumps({"note": meta})},
    )
    assert response.status_code in {201, 400, 415, 422}, (name, meta, response.text)
    if text_problem(meta) is not None:
        assert response.status_code == 422
    if response.status_code == 201:
        stored = response.json()["documents"][0]["filename"]
        assert "/" not in stored and not Path(stored).is_absolute()
