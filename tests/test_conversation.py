"""Follow-up questions: the query built from earlier turns, the API using it, and the
follow-up set's sample-corpus part with the real encoders."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.cli import sample_corpus
from retriever.answer.chat import ChatTurn
from retriever.conversation import before_last_question, followup_query, key_terms
from retriever.searcher import Retriever
from scripts.followups_data import earlier_turns, load_conversations
from tests.api_support import FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

ROOT = Path(__file__).resolve().parents[1]
SIGNERS = [
    ChatTurn("user", "Who signed the agreement for Harbour City Council?"),
    ChatTurn("assistant", "Mayor Elena Duarte [1]\n\nSources:\n[1] Harbour City — a.md (¶2)"),
]


def test_key_terms_keep_names_whole_and_drop_function_words() -> None:
    terms = key_terms("Who signed the agreement for Northwind Rail in March 2025?")
    assert terms == ["signed", "agreement", "Northwind Rail", "March 2025"]
    assert key_terms("青山村光伏合作社的协议是谁签的？") == ["青山村光伏合作社的协议是谁签的"]


def test_followup_query_adds_context_after_the_question() -> None:
    query = followup_query("When was it signed?", SIGNERS)
    assert query.startswith("When was it signed? ")
    added = query.removeprefix("When was it signed? ")
    assert "Mayor Elena Duarte" in added and "Harbour City Council" in added
    assert "signed" not in added.split()  # the question already has it
    assert "Sources" not in added and "a.md" not in added  # the reply's source list is not context


def test_followup_query_weights_older_exchanges_less() -> None:
    turns = [
        ChatTurn("user", "alpha bravo charlie delta echo foxtrot golf hotel india"),
        ChatTurn("user", "juliet kilo lima mike november oscar papa quebec romeo"),
    ]
    added = followup_query("Why?", turns, max_terms=6).split()[1:]
    # The newest exchange gives two thirds of the terms, the one before it the rest.
    assert added == ["juliet", "kilo", "lima", "mike", "alpha", "bravo"]


def test_followup_query_respects_the_length_limit() -> None:
    question = "What happened next?"
    query = followup_query(question, SIGNERS, max_chars=len(question) + 12)
    assert len(query) <= len(question) + 12 and query.startswith(question)
    assert followup_query(question, []) == question


def test_before_last_question_drops_the_question_and_system_turns() -> None:
    turns = [ChatTurn("system", "be brief"), *SIGNERS, ChatTurn("user", "When?")]
    assert before_last_question(turns) == SIGNERS


@pytest.fixture
def sample_index(tmp_path: Path) -> Path:
    shutil.copytree(sample_corpus(), tmp_path / "docs")
    index_paths(tmp_path / "idx", KeywordEncoder(), tmp_path / "docs")
    return tmp_path / "idx"


def _texts(passages: list[dict[str, Any]]) -> list[str]:
    return [p["text"] for p in passages[:3]]


def test_ask_and_chat_search_a_follow_up_with_its_context(sample_index: Path) -> None:
    witness = "Priya Raman witnessed"
    app = make_app(sample_index, FakeExtractor(["Priya Raman"]))
    history = [{"role": t.role, "content": t.text} for t in SIGNERS]
    with TestClient(app) as client:
        alone = client.post("/v1/ask", json={"query": "Who watched?"}).json()
        assert not any(witness in t for t in _texts(alone["passages"]))
        asked = client.post(
            "/v1/ask", json={"query": "Who watched?", "conversation": history}
        ).json()
        assert asked["query"] == "Who watched?" and "Elena Duarte" in asked["search_query"]
        assert any(witness in t for t in _texts(asked["passages"]))
        assert asked["found"] is True and asked["answer"]["text"] == "Priya Raman"
        chat = client.post(
            "/v1/chat/completions",
            json={"messages": [*history, {"role": "user", "content": "Who watched?"}]},
        ).json()
        assert chat["found"] is True
        assert chat["choices"][0]["message"]["content"].startswith("Priya Raman [1]")
        too_long = client.post(
            "/v1/ask", json={"query": "x", "conversation": [{"role": "user", "content": "y"}] * 21}
        )
        assert too_long.status_code == 422


def _load(part: str) -> list[dict[str, Any]]:
    return [r for r in load_conversations() if r["corpus"] == part]


def test_followup_set_is_well_formed() -> None:
    rows = load_conversations()
    assert len(rows) >= 30 and len({r["id"] for r in rows}) == len(rows)
    assert {len(r["turns"]) for r in rows} == {2, 3}
    for row in rows:
        assert all("a" in t for t in row["turns"][:-1]) and "a" not in row["turns"][-1]
    docs = {p.read_text(encoding="utf-8") for p in sample_corpus().iterdir()}
    for row in _load("sample"):
        assert any(row["gold"] in d for d in docs), row["id"]


@pytest.mark.e2e
def test_sample_corpus_follow_ups_with_the_real_encoders(tmp_path: Path) -> None:
    """Context rescues every sample-corpus follow-up that misses its paragraph alone.

    One self-contained follow-up ("How many local staff will it hire?") is known to lose
    its paragraph to the context terms; a second loss would be a regression.
    """
    from docqa.settings import Settings
    from docqa.wiring import load_encoders, load_retriever
    from index.lifecycle.ingest import discover, stage_paths
    from index.lifecycle.writer import IndexWriter

    settings = Settings(index_dir=tmp_path / "idx")
    encoders = load_encoders(settings)
    with IndexWriter(settings.index_dir, encoders) as writer:
        stage_paths(writer, discover([sample_corpus()]))
        writer.commit()
    retriever = load_retriever(settings, encoders)
    not_rescued, lost = [], []
    for row in _load("sample"):
        turns = earlier_turns(row)
        question = row["turns"][-1]["q"]
        alone = any(row["gold"] in h.text for h in retriever.search(question, 3).hits)
        query = followup_query(question, turns)
        with_context = any(row["gold"] in h.text for h in retriever.search(query, 3).hits)
        if not alone and not with_context:
            not_rescued.append(row["id"])
        if alone and not with_context:
            lost.append(row["id"])
    assert not_rescued == []
    assert len(lost) <= 1, lost


def test_ask_and_chat_judge_relevance_for_the_question_as_asked(
    sample_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search query carries the context; relevance is read for the question alone."""
    seen: list[tuple[str, str | None]] = []
    search = Retriever.search

    def recording(self: Retriever, question: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((question, args[3] if len(args) > 3 else kwargs.get("asked")))
        return search(self, question, *args, **kwargs)

    monkeypatch.setattr(Retriever, "search", recording)
    app = make_app(sample_index, FakeExtractor(["Priya Raman"]))
    history = [{"role": t.role, "content": t.text} for t in SIGNERS]
    with TestClient(app) as client:
        client.post("/v1/ask", json={"query": "Who watched?", "conversation": history})
        client.post(
            "/v1/chat/completions",
            json={"messages": [*history, {"role": "user", "content": "Who watched?"}]},
        )
    assert len(seen) == 2
    assert all("Elena Duarte" in query and asked == "Who watched?" for query, asked in seen)
