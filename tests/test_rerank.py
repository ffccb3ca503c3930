"""Second stage: sentence vectors on disk, features, the linear model, the cross-encoder path."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from docqa.settings import Settings
from docqa.wiring import load_second_stage
from index.encoders.base import Vectors
from index.errors import IndexMismatchError
from index.lifecycle.writer import IndexWriter
from index.models import DocumentInput
from index.passages.sentences import sentence_spans
from index.stores.sentence_vectors import SENTENCES_DIR
from retriever.fusion import normalized_score_fusion
from retriever.relevance import UNKNOWN_TERMS, signal_evidence
from retriever.rerank import (
    ENCODED_MODEL,
    FEATURE_NAMES,
    POOLED_MODEL,
    CrossEncoderReranker,
    LinearModel,
    LinearReranker,
    collect_signals,
    feature_matrix,
)
from retriever.rerank.features import standardise
from retriever.rerank.signals import _segment_second
from retriever.rerank.terms import query_terms, sentence_terms
from retriever.searcher import Retriever
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever

# The long passage repeats the question's words, but scattered over sentences about other
# things; the short passage has them all in one sentence. A whole-passage score ranks
# the long one first; the best sentence shows which passage the question was written from.
LONG = (
    "The eastern tower is the oldest part of the castle. The tower roof leaks in winter. "
    "The roof of the eastern tower was painted red. Repaired roads lead up to the tower. "
    "The eastern gate faces the tower roof."
)
SHORT = (
    "Records of the town are incomplete, and the archive burned in a fire long ago. "
    "The eastern tower roof was repaired by artists from the valley."
)
QUESTION = "Who repaired the eastern tower roof?"


@pytest.fixture
def two_passages(tmp_path: Path, store: str) -> Retriever:
    # The second stage's signals (dense scores of the candidates) under both vector stores.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "castle.txt").write_text(f"Castle\n\n{LONG}\n", encoding="utf-8")
    (docs / "town.txt").write_text(f"Town\n\n{SHORT}\n", encoding="utf-8")
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, docs)
    return open_retriever(tmp_path / "idx", encoder)


def test_sentence_spans_cover_text_and_respect_abbreviations() -> None:
    text = "Mr. Brown met Dr. Li in the U.S. in 1901. They signed it. 协议已签署。价格很高！"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Mr. Brown met Dr. Li in the U.S. in 1901.",
        "They signed it.",
        "协议已签署。",
        "价格很高！",
    ]
    assert sentence_spans("   ") == []
    assert sentence_spans("Yes. The rest is one sentence here.") == [(0, 35)]


def test_sentence_vectors_follow_incremental_updates(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(f"{LONG}\n\nOne sentence only here.\n", encoding="utf-8")
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, docs)
    # A one-sentence passage reuses its passage vector: embedded once, not twice.
    assert encoder.encoded.count("One sentence only here.") == 1
    (docs / "a.txt").write_text(f"{SHORT}\n\nOne sentence only here.\n", encoding="utf-8")
    index_paths(tmp_path / "idx", encoder, docs)
    snapshot = open_retriever(tmp_path / "idx", encoder).handle.current()
    passages = {p.vector_id: p for p in snapshot.store.iter_passages()}
    rows = snapshot.sentences.rows_of(sorted(passages))
    texts = [
        passages[int(v)].text[a:b] for v, (a, b) in zip(rows.vector_ids, rows.spans, strict=True)
    ]
    assert texts == [
        "One sentence only here.",
        "Records of the town are incomplete, and the archive burned in a fire long ago.",
        "The eastern tower roof was repaired by artists from the valley.",
    ]
    assert snapshot.manifest.sentences == 3
    expected = encoder.encode_queries(texts)
    np.testing.assert_allclose(rows.vectors[encoder.name], expected, atol=1e-6)


def test_snapshot_refuses_missing_sentence_vectors(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    generation = open_retriever(tmp_path / "idx", encoder).handle.current().directory
    shutil.rmtree(generation / SENTENCES_DIR)
    with pytest.raises(IndexMismatchError, match="rebuild"):
        open_retriever(tmp_path / "idx", encoder)


def test_term_scores_prefer_the_sentence_with_the_question_terms(two_passages: Retriever) -> None:
    snapshot = two_passages.handle.current()
    terms = query_terms(QUESTION, snapshot.lexical)
    assert set(terms.terms) == {"repair", "eastern", "tower", "roof"}
    scores = sentence_terms(terms, ["The eastern tower roof was repaired.", "A tower of stone."])
    assert scores.coverage[0] == pytest.approx(1.0)
    assert 0 < scores.coverage[1] < 0.5
    assert scores.bigrams[0] > scores.bigrams[1] == 0


def test_unknown_share_weighs_the_terms_no_passage_holds(two_passages: Retriever) -> None:
    """Terms the index lacks leave coverage alone but are counted, IDF-weighted, apart."""
    snapshot = two_passages.handle.current()
    assert query_terms(QUESTION, snapshot.lexical).unknown == 0.0
    asked = "Who repaired the zeppelin hangar?"
    terms = query_terms(asked, snapshot.lexical)
    assert terms.terms == ("repair",)
    # An absent term has the highest IDF there is: each outweighs the known one.
    assert 2 / 3 < terms.unknown < 1.0
    assert query_terms("zeppelin hangar", snapshot.lexical).unknown == 1.0
    # CJK bigrams are left out of it: one across two words is missing from most texts.
    assert query_terms("齐柏林飞艇 hangar", snapshot.lexical).unknown == 1.0
    assert query_terms("齐柏林飞艇", snapshot.lexical).unknown == 0.0
    vectors = two_passages.encode_queries([asked])
    fused = two_passages.rescored(snapshot, asked, 2, Mode.HYBRID, vectors).ranked
    signals = collect_signals(snapshot, asked, vectors, fused)
    assert signals.unknown_terms == terms.unknown
    evidence = signal_evidence(signals, set(signals.vector_ids.tolist()))
    assert all(e[UNKNOWN_TERMS] == terms.unknown for e in evidence.values())


def test_linear_stage_lifts_the_passage_with_the_best_sentence(two_passages: Retriever) -> None:
    first = two_passages.search(QUESTION, 2, Mode.HYBRID)
    assert first.hits[0].text == LONG  # whole-passage evidence favours the long passage
    snapshot = two_passages.handle.current()
    vectors = two_passages.encode_queries([QUESTION])
    fused = two_passages.rescored(snapshot, QUESTION, 2, Mode.HYBRID, vectors).ranked
    signals = collect_signals(snapshot, QUESTION, vectors, fused)
    features = feature_matrix(signals)
    assert features.shape == (len(fused), len(FEATURE_NAMES))
    # The long passage wins on whole-passage BM25; its best sentence holds fewer of the
    # question's terms, and none of its pairs of adjacent terms, than the short one's.
    long_row, short_row = (list(signals.vector_ids).index(vid) for vid, _ in fused[:2])
    assert signals.bm25[long_row] > signals.bm25[short_row]
    assert signals.coverage[short_row] == pytest.approx(1.0)
    assert signals.coverage[long_row] < 1.0
    assert signals.bigrams[short_row] > signals.bigrams[long_row]

    reranked = Retriever(two_passages.handle, two_passages.encoders, second_stage=LinearReranker())
    for _ in range(2):  # deterministic
        hits = reranked.search(QUESTION, 2, Mode.HYBRID).hits
        assert [h.text for h in hits] == [SHORT, LONG]
        assert 0 < hits[1].score <= hits[0].score < 1
    # Dense and lexical modes stay single-signal rankings: no second stage there.
    assert (
        reranked.search(QUESTION, 2, Mode.DENSE).hits
        == two_passages.search(QUESTION, 2, Mode.DENSE).hits
    )


def test_runner_up_coverage_is_the_second_best_sentence(two_passages: Retriever) -> None:
    snapshot = two_passages.handle.current()
    vectors = two_passages.encode_queries([QUESTION])
    fused = two_passages.rescored(snapshot, QUESTION, 2, Mode.HYBRID, vectors).ranked
    signals = collect_signals(snapshot, QUESTION, vectors, fused)
    terms = query_terms(QUESTION, snapshot.lexical)
    passages = snapshot.store.passages_by_vector_id(signals.vector_ids.tolist())
    texts = [passages[int(v)].text for v in signals.vector_ids]
    for text in (LONG, SHORT):
        row = texts.index(text)
        coverage = sorted(
            sentence_terms(terms, [text[a:b] for a, b in sentence_spans(text)]).coverage
        )
        assert signals.coverage[row] == pytest.approx(coverage[-1])
        assert signals.runner_up_coverage[row] == pytest.approx(coverage[-2])
    # The long passage repeats the question's words in several sentences; the short one
    # holds them in one sentence and none in the other.
    long_row, short_row = (list(signals.vector_ids).index(vid) for vid, _ in fused[:2])
    assert signals.runner_up_coverage[long_row] > 0.5
    assert signals.runner_up_coverage[short_row] == 0.0


def test_runner_up_is_zero_for_a_single_sentence() -> None:
    values = np.array([0.2, 0.9, 0.5, 0.7, 0.1, 0.9])
    owner = np.array([0, 0, 0, 1, 2, 2])
    # Owner 1 has one sentence, owner 3 none: no runner-up.
    assert _segment_second(values, owner, 4).tolist() == [0.5, 0.0, 0.1, 0.0]
    assert _segment_second(np.zeros(0), np.zeros(0, dtype=np.int64), 2).tolist() == [0.0, 0.0]


class _PoolingKeywords(KeywordEncoder):
    """The keyword fake, with 'pooled' sentence vectors: a sentence's own keyword vector."""

    def encode_passages_pooled(
        self, texts: list[str], sentences: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[Vectors, Vectors]:
        pairs = zip(texts, sentences, strict=True)
        return self._encode(texts), self._encode([t[a:b] for t, found in pairs for a, b in found])


def _write(index_dir: Path, encoder: KeywordEncoder, pooling: bool, *texts: str) -> None:
    with IndexWriter(index_dir, encoder, sentence_pooling=pooling) as writer:
        for i, text in enumerate(texts):
            writer.upsert(DocumentInput(f"d{i}", text, "T", f"{i}.txt"))
        writer.commit()


def test_linear_stage_weighs_pooled_sentences_with_their_own_model(tmp_path: Path) -> None:
    encoder = _PoolingKeywords()
    _write(tmp_path / "pooled", encoder, True, LONG, SHORT)
    _write(tmp_path / "encoded", encoder, False, LONG, SHORT)
    # An update keeps the kind of sentence vector the index was built with.
    _write(tmp_path / "pooled", encoder, False, LONG, SHORT, "The tower is tall.")
    for name, pooled, model in (("pooled", True, POOLED_MODEL), ("encoded", False, ENCODED_MODEL)):
        retriever = open_retriever(tmp_path / name, encoder)
        snapshot = retriever.handle.current()
        assert snapshot.manifest.sentence_pooling is pooled
        vectors = retriever.encode_queries([QUESTION])
        fused = retriever.rescored(snapshot, QUESTION, 3, Mode.HYBRID, vectors).ranked
        features = feature_matrix(collect_signals(snapshot, QUESTION, vectors, fused))
        found = LinearReranker().rescore(snapshot, QUESTION, vectors, fused).ranked
        scores = dict(found)
        expected = model.probabilities(features)
        other = (ENCODED_MODEL if pooled else POOLED_MODEL).probabilities(features)
        got = [scores[vid] for vid, _ in fused]
        np.testing.assert_allclose(got, expected)
        assert not np.allclose(got, other)


def test_linear_model_rejects_unknown_features() -> None:
    with pytest.raises(ValueError, match="unknown features"):
        LinearModel(weights={"page_rank": 1.0})


def test_linear_model_softmax_over_candidates() -> None:
    model = LinearModel(weights={"coverage": 2.0})
    features = np.zeros((3, len(FEATURE_NAMES)))
    features[0, FEATURE_NAMES.index("coverage")] = 1.0
    features[1, FEATURE_NAMES.index("bm25")] = 5.0  # weight 0: ignored
    assert model.utilities(features).tolist() == [2.0, 0.0, 0.0]
    e2 = float(np.exp(2.0))
    assert model.probabilities(features).tolist() == pytest.approx(
        [e2 / (e2 + 2), 1 / (e2 + 2), 1 / (e2 + 2)]
    )
    assert model.probabilities(np.zeros((0, len(FEATURE_NAMES)))).shape == (0,)


def test_standardise_puts_the_best_at_zero() -> None:
    assert standardise(np.array([1.0, 3.0, 2.0])).tolist() == pytest.approx(
        [-2 / np.std([1, 3, 2]), 0.0, -1 / np.std([1, 3, 2])]
    )
    assert standardise(np.array([5.0, 5.0])).tolist() == [0.0, 0.0]


def test_normalized_score_fusion() -> None:
    fused = normalized_score_fusion(
        [[(1, 10.0), (2, 5.0), (3, 0.0)], [(3, 0.9), (2, 0.8), (4, 0.0)]], [1.0, 1.0]
    )
    assert [item for item, _ in fused] == [2, 1, 3, 4]  # 1 and 3 tie: first seen first
    assert fused[0][1] == pytest.approx(0.5 + 0.8 / 0.9)
    with pytest.raises(ValueError):
        normalized_score_fusion([[(1, 1.0)]], [1.0, 2.0])


class ReverseAlphabet:
    """A fake cross-encoder: prefers passages whose text sorts last."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        self.calls.append((question, len(passages)))
        order = sorted(range(len(passages)), key=lambda i: passages[i])
        scores = np.zeros(len(passages))
        scores[order] = np.arange(len(passages), dtype=np.float64)
        return scores


def test_cross_encoder_stage_orders_by_its_scores(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    scorer = ReverseAlphabet()
    retriever = Retriever(
        open_retriever(tmp_path / "idx", encoder).handle,
        encoder,
        second_stage=CrossEncoderReranker(scorer),
    )
    hits = retriever.search("tea harbour treaty", 3, Mode.HYBRID).hits
    every = retriever.search("tea harbour treaty", 100, Mode.HYBRID).hits
    assert [h.text for h in hits] == sorted((h.text for h in every), reverse=True)[:3]
    assert scorer.calls[0] == ("tea harbour treaty", len(every))


def _tiny_cross_encoder(folder: Path) -> Path:
    """A randomly initialised two-layer BERT classifier saved as a CrossEncoder folder."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    words = "[PAD] [UNK] [CLS] [SEP] [MASK] tea treaty harbour signed green hills who the".split()
    (folder / "vocab.txt").parent.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=1,
    )
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(str(folder))
    return folder


def test_cross_encoder_setting_loads_a_local_model(tmp_path: Path, corpus_dir: Path) -> None:
    from sentence_transformers import CrossEncoder

    model_dir = _tiny_cross_encoder(tmp_path / "ce")
    assert load_second_stage(Settings(rerank=False, cross_encoder=model_dir)) is None
    assert isinstance(load_second_stage(Settings()), LinearReranker)
    stage = load_second_stage(Settings(cross_encoder=model_dir))
    assert isinstance(stage, CrossEncoderReranker)

    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    retriever = Retriever(
        open_retriever(tmp_path / "idx", encoder).handle, encoder, second_stage=stage
    )
    hits = retriever.search("who signed the treaty", 100, Mode.HYBRID).hits
    expected = CrossEncoder(str(model_dir)).predict(
        [("who signed the treaty", h.text) for h in hits]
    )
    assert [h.score for h in hits] == pytest.approx(np.asarray(expected).tolist(), abs=1e-5)
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))


def test_cross_encoder_setting_names_a_bad_path(tmp_path: Path) -> None:
    from index.errors import DocqaError

    with pytest.raises(DocqaError, match="DOCQA_CROSS_ENCODER"):
        load_second_stage(Settings(cross_encoder=tmp_path / "missing"))


@pytest.mark.parametrize("pooling", [True, False])
def test_uploads_build_a_new_index_with_the_configured_sentence_vectors(
    tmp_path: Path, pooling: bool
) -> None:
    """``DOCQA_SENTENCE_POOLING`` reaches the upload path, not only ``docqa index``."""
    from fastapi.testclient import TestClient

    from docqa.server import create_app

    settings = Settings(index_dir=tmp_path / "idx", sentence_pooling=pooling)
    app = create_app(
        settings, encoder_factory=lambda _s: [_PoolingKeywords()], extractor_factory=lambda _s: None
    )
    with TestClient(app) as client:
        files = [("files", ("tower.txt", LONG.encode(), "text/plain"))]
        response = client.post("/v1/documents", files=files)
        assert response.status_code in (200, 201, 202), response.text
        retriever = open_retriever(tmp_path / "idx", _PoolingKeywords())
        assert retriever.handle.current().manifest.sentence_pooling is pooling
