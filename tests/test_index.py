"""Build, reopen and refuse: the index directory, manifest and store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index.encoders.specs import EncoderSpec, specs_of
from index.errors import IndexMismatchError, IndexNotFoundError
from index.lifecycle.generation import current_generation, generation_dir
from index.lifecycle.manifest import FORMAT_VERSION
from index.lifecycle.snapshot import IndexSnapshot
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths


def test_build_and_reopen(tmp_path: Path, corpus_dir: Path, fake_embedder: KeywordEncoder) -> None:
    report, errors = index_paths(tmp_path / "idx", fake_embedder, corpus_dir)
    assert errors == []  # notes.bin is not a supported type, so it is not even tried
    assert (report.documents_added, report.documents_total) == (2, 2)
    assert report.passages_total == 6 and report.passages_embedded == 6
    snapshot = IndexSnapshot.open(tmp_path / "idx", specs_of([fake_embedder]))
    manifest = json.loads((snapshot.directory / "manifest.json").read_text())
    assert manifest["model"] == "fake-keyword" and manifest["dimension"] == 2048
    assert manifest["count"] == 6 and manifest["format_version"] == FORMAT_VERSION
    assert manifest["normalized"] is True and manifest["created"]
    assert snapshot.primary.count == snapshot.lexical.count == snapshot.store.count_passages() == 6
    for passage in snapshot.store.iter_passages():
        text = snapshot.store.document_text(passage.document_id)
        assert text[passage.char_start : passage.char_end] == passage.text
        assert passage.passage_id == f"{passage.document_id}#{passage.paragraph}"


def test_stored_vectors_are_unit_float32(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    snapshot = IndexSnapshot.open(tmp_path / "idx", specs_of([encoder]))
    index = snapshot.primary._index  # noqa: SLF001 - checking the on-disk contract
    ids = [p.vector_id for p in snapshot.store.iter_passages()]
    vectors = np.vstack([index.reconstruct(i) for i in ids])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_ids_are_stable_across_rebuilds(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "a", encoder, corpus_dir)
    index_paths(tmp_path / "b", encoder, corpus_dir)
    ids = []
    for name in ("a", "b"):
        snap = IndexSnapshot.open(tmp_path / name, specs_of([encoder]))
        ids.append(sorted(p.passage_id for p in snap.store.iter_passages()))
    assert ids[0] == ids[1]


def test_missing_index_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="docqa index"):
        IndexSnapshot.open(tmp_path / "nothing", (EncoderSpec("fake-keyword", 2048),))


def test_refuses_other_model_and_dimension(tmp_path: Path, corpus_dir: Path) -> None:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    with pytest.raises(IndexMismatchError, match="built with encoders \\[fake-keyword\\]"):
        IndexSnapshot.open(tmp_path / "idx", (EncoderSpec("other-model", 2048),))
    with pytest.raises(IndexMismatchError, match="dimension 2048"):
        IndexSnapshot.open(tmp_path / "idx", (EncoderSpec("fake-keyword", 384),))
    with pytest.raises(IndexMismatchError, match="rebuild"):
        index_paths(tmp_path / "idx", KeywordEncoder(dimension=128), corpus_dir)


def test_refuses_count_mismatch(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    store = generation_dir(tmp_path / "idx", current_generation(tmp_path / "idx") or 0)
    with sqlite3.connect(store / "store.sqlite") as conn:
        conn.execute("DELETE FROM passages WHERE paragraph = 0")
    with pytest.raises(IndexMismatchError, match="inconsistent"):
        IndexSnapshot.open(tmp_path / "idx", specs_of([encoder]))


def test_failed_build_leaves_previous_generation(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    before = current_generation(tmp_path / "idx")

    class Boom(KeywordEncoder):
        def encode_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
            raise RuntimeError("encoder crashed")

    (corpus_dir / "new.txt").write_text("A brand new paragraph.", encoding="utf-8")
    with pytest.raises(RuntimeError):
        index_paths(tmp_path / "idx", Boom(), corpus_dir)
    assert current_generation(tmp_path / "idx") == before
    snap = IndexSnapshot.open(tmp_path / "idx", specs_of([encoder]))
    assert snap.store.count_documents() == 2
    assert not [p for p in (tmp_path / "idx").iterdir() if p.name.startswith(".staging")]


def test_a_refused_writer_leaves_no_staging_folder_and_a_free_lock(
    tmp_path: Path, corpus_dir: Path
) -> None:
    from index.errors import IndexLockedError
    from index.lifecycle.generation import writer_lock
    from index.lifecycle.writer import IndexWriter

    index_dir = tmp_path / "idx"
    index_paths(index_dir, KeywordEncoder(), corpus_dir)
    with pytest.raises(IndexMismatchError, match="dimension"):
        IndexWriter(index_dir, KeywordEncoder(dimension=16)).__enter__()
    assert not list(index_dir.glob(".staging-*"))
    try:
        with writer_lock(index_dir):
            pass
    except IndexLockedError:  # pragma: no cover - the failure this test exists for
        pytest.fail("the refused writer kept the index lock")


def test_passage_store_looks_up_one_document(tmp_path: Path, corpus_dir: Path) -> None:
    from index.errors import DocumentNotFoundError

    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    store = IndexSnapshot.open(tmp_path / "idx", specs_of([encoder])).store
    listed = store.documents()
    assert [store.document(d.document_id) for d in listed] == listed
    with pytest.raises(DocumentNotFoundError, match="no-such-doc"):
        store.document("no-such-doc")


def test_old_manifests_with_faiss_index_still_read(tmp_path: Path, corpus_dir: Path) -> None:
    from index.lifecycle.manifest import Manifest

    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)
    directory = generation_dir(tmp_path / "idx", current_generation(tmp_path / "idx") or 0)
    path = directory / "manifest.json"
    raw = json.loads(path.read_text())
    raw["faiss_index"] = raw.pop("vector_index")  # as written before the rename
    path.write_text(json.dumps(raw))
    assert Manifest.read(directory).vector_index == "IDMap2,Flat"
    assert IndexSnapshot.open(tmp_path / "idx", specs_of([encoder])).primary.count == 6
