"""OpenAI-compatible chat completions, driven by the official openai client over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from retriever.conversation import _answer_part
from tests.api_support import TREATY_ANSWER, FakeExtractor, live_server, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

QUESTION = "Who signed the treaty?"


@pytest.fixture
def index_dir(tmp_path: Path, corpus_dir: Path) -> Path:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    return tmp_path / "idx"


@pytest.fixture
def client(index_dir: Path) -> Iterator[openai.OpenAI]:
    app = make_app(index_dir, FakeExtractor([TREATY_ANSWER]), api_keys_read=["sk-test"])
    with live_server(app) as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0, timeout=30)


def _extra(model: Any, name: str) -> Any:
    return (model.model_extra or {}).get(name)


def _check_citation(citation: dict[str, Any], corpus_dir: Path) -> None:
    assert citation["number"] == 1 and citation["title"] == "The Harbour Treaty"
    text = (corpus_dir / "treaty.md").read_text(encoding="utf-8")
    assert text[citation["char_start"] : citation["char_end"]] == citation["text"]
    answer = citation["answer"]
    assert text[answer["char_start"] : answer["char_end"]] == TREATY_ANSWER


def test_completion_is_extractive_with_numbered_citations(
    client: openai.OpenAI, corpus_dir: Path
) -> None:
    completion = client.chat.completions.create(
        model="docqa",
        messages=[
            {"role": "system", "content": "Answer from the documents."},
            {"role": "user", "content": "What about tea?"},
            {"role": "assistant", "content": "Green tea grows on the hills."},
            {"role": "user", "content": QUESTION},
        ],
        temperature=0.2,  # accepted and ignored
    )
    content = completion.choices[0].message.content or ""
    assert content.startswith(f"{TREATY_ANSWER} [1]")
    assert "Sources:\n[1] The Harbour Treaty" in content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "docqa" and completion.usage is not None
    citations = _extra(completion, "citations")
    assert isinstance(citations, list) and len(citations) == 1
    _check_citation(citations[0], corpus_dir)


def test_streamed_completion_carries_the_citations(client: openai.OpenAI, corpus_dir: Path) -> None:
    stream = client.chat.completions.create(
        model="docqa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert content.startswith(f"{TREATY_ANSWER} [1]") and "Sources:" in content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    with_citations = [c for c in chunks if _extra(c, "citations")]
    assert with_citations and with_citations[-1] is chunks[-1]
    _check_citation(_extra(chunks[-1], "citations")[0], corpus_dir)


def test_multipart_content_and_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["docqa"]
    completion = client.chat.completions.create(
        model="anything-the-frontend-sends",
        messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
    )
    assert TREATY_ANSWER in (completion.choices[0].message.content or "")
    assert completion.model == "anything-the-frontend-sends"


def test_errors_reach_the_client(client: openai.OpenAI, index_dir: Path) -> None:
    with pytest.raises(openai.UnprocessableEntityError, match="no user message"):
        client.chat.completions.create(
            model="docqa", messages=[{"role": "system", "content": "hi"}]
        )
    bad_key = openai.OpenAI(base_url=str(client.base_url), api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        bad_key.chat.completions.create(
            model="docqa", messages=[{"role": "user", "content": QUESTION}]
        )


def test_without_extractor_the_reply_is_marked_as_closest_passage(index_dir: Path) -> None:
    with live_server(make_app(index_dir, None)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        completion = client.chat.completions.create(
            model="docqa", messages=[{"role": "user", "content": QUESTION}]
        )
    content = completion.choices[0].message.content or ""
    assert content.startswith("No exact answer was extracted")
    assert "Alice Brown" in content and "[1]" in content
    citations = _extra(completion, "citations")
    assert citations[0]["answer"] is None and "Alice Brown" in citations[0]["text"]


def test_not_found_says_so_and_lists_the_closest_passages(index_dir: Path) -> None:
    """No answer: the reply says it could not find one, then lists the closest passages
    (cited like sources, so a frontend can show them); a follow-up ignores that list."""
    app = make_app(index_dir, FakeExtractor(["no such text"]))
    with live_server(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        messages: Any = [{"role": "user", "content": QUESTION}]
        completion = client.chat.completions.create(model="docqa", messages=messages)
        streamed = "".join(
            chunk.choices[0].delta.content or ""
            for chunk in client.chat.completions.create(
                model="docqa", messages=messages, stream=True
            )
            if chunk.choices
        )
    content = completion.choices[0].message.content or ""
    assert _extra(completion, "found") is False
    assert content.startswith("I could not find an answer in the indexed documents.")
    assert "\n\nClosest passages:\n[1] The Harbour Treaty" in content
    citations = _extra(completion, "citations")
    assert citations and citations[0]["number"] == 1 and citations[0]["answer"] is None
    assert streamed == content
    assert _answer_part(content) == "I could not find an answer in the indexed documents."


def test_no_index_is_503(tmp_path: Path) -> None:
    with live_server(make_app(tmp_path / "empty", None)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(
                model="docqa", messages=[{"role": "user", "content": QUESTION}]
            )
    assert caught.value.status_code == 503
