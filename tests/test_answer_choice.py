"""Which passage's answer /v1/ask reports: ranking decides, not raw extractor scores."""

from __future__ import annotations

from pathlib import Path

from retriever.answer.choice import AnswerKind, choose_answer
from retriever.answer.types import AnswerSpans
from retriever.types import Citation, Hit, Span


def _hit(rank: int, text: str, start: int) -> Hit:
    cite = Citation(f"doc{rank}", "t", "s", 0, start, start + len(text))
    return Hit(rank, 1.0 / rank, f"doc{rank}#0", text, cite)


def test_best_ranked_passage_with_an_answer_wins() -> None:
    hits = [_hit(1, "Alice signed it.", 10), _hit(2, "Nothing here.", 0), _hit(3, "Bob ran.", 5)]
    spans = [
        AnswerSpans(Span("Alice", 10, 15), None, 0.05),
        AnswerSpans(None, None, 0.0),
        AnswerSpans(Span("Bob", 5, 8), None, 0.9),  # more confident, but ranked lower
    ]
    answer = choose_answer("Who signed?", hits, spans)
    assert answer is not None and answer.kind is AnswerKind.EXTRACTED
    assert (answer.text, answer.passage, answer.document_id) == ("Alice", 0, "doc1")


def test_falls_back_to_a_sentence_when_no_answer() -> None:
    hits = [_hit(1, "The treaty was signed in Paris. It rained.", 0)]
    answer = choose_answer("Where was the treaty signed?", hits, [AnswerSpans(None, None, 0.0)])
    assert answer is not None and answer.fallback
    assert answer.text == "The treaty was signed in Paris."


def test_api_search_uses_the_second_stage(tmp_path: Path, corpus_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from retriever.rerank import LinearReranker
    from tests.api_support import make_app
    from tests.fakes import KeywordEncoder
    from tests.helpers import index_paths

    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    with TestClient(make_app(tmp_path / "idx")) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert isinstance(services.retriever().second_stage, LinearReranker)
        assert client.post("/v1/search", json={"query": "Who signed?"}).status_code == 200
    with TestClient(make_app(tmp_path / "idx", rerank=False)) as client:
        assert client.app.state.services.retriever().second_stage is None  # type: ignore[attr-defined]


def test_relevance_picks_the_passage_when_every_answer_has_one() -> None:
    hits = [_hit(1, "Alice signed it.", 10), _hit(2, "Bob signed it.", 0)]
    spans = [
        AnswerSpans(Span("Alice", 10, 15), None, 0.9),
        AnswerSpans(Span("Bob", 0, 3), None, 0.2),
    ]
    answer = choose_answer("Who signed?", hits, spans, [0.3, 0.8])
    assert answer is not None and (answer.text, answer.passage) == ("Bob", 1)
    # A tie keeps the ranking; a missing relevance falls back to the ranking.
    tie = choose_answer("Who signed?", hits, spans, [0.5, 0.5])
    assert tie is not None and tie.passage == 0
    partial = choose_answer("Who signed?", hits, spans, [None, 0.8])
    assert partial is not None and partial.passage == 0
