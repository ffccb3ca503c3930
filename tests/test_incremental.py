"""Re-indexing a changed folder embeds only what changed and keeps every part in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.encoders.specs import specs_of
from index.lifecycle.snapshot import IndexSnapshot
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever, vector_store

# Incremental update and delete run against both vector stores (FAISS, Milvus Lite).
pytestmark = pytest.mark.usefixtures("store")


def _write_folder(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i:02d}.txt").write_text(
            f"Document {i}\n\nParagraph one of file {i} about topic{i}.\n\n"
            f"Paragraph two of file {i} mentions widget{i}.\n",
            encoding="utf-8",
        )


def test_one_changed_paragraph_is_the_only_one_embedded(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    _write_folder(folder, 50)
    encoder = KeywordEncoder()
    first, _ = index_paths(index_dir, encoder, folder)
    assert first.passages_embedded == 150

    encoder.encoded.clear()
    path = folder / "doc17.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("mentions widget17", "describes zeppelin"),
        encoding="utf-8",
    )
    second, _ = index_paths(index_dir, encoder, folder)
    assert encoder.encoded == ["Paragraph two of file 17 describes zeppelin."]
    assert second.passages_embedded == 1 and second.passages_removed == 1
    assert (second.documents_updated, second.documents_unchanged) == (1, 49)
    assert second.passages_total == 150

    retriever = open_retriever(index_dir, encoder)
    for mode in (Mode.DENSE, Mode.LEXICAL):
        top = retriever.search("zeppelin", 1, mode).hits[0]
        assert "zeppelin" in top.text and top.citation.source.endswith("doc17.txt")
        old = retriever.search("widget17", 3, mode).hits
        assert all("widget17" not in hit.text for hit in old)


def test_unchanged_folder_embeds_nothing(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    _write_folder(folder, 5)
    encoder = KeywordEncoder()
    index_paths(index_dir, encoder, folder)
    encoder.encoded.clear()
    report, _ = index_paths(index_dir, encoder, folder)
    assert encoder.encoded == [] and report.documents_unchanged == 5


def test_deleted_file_leaves_every_index(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    _write_folder(folder, 3)
    encoder = KeywordEncoder()
    index_paths(index_dir, encoder, folder)
    (folder / "doc01.txt").unlink()
    report, _ = index_paths(index_dir, encoder, folder)
    assert report.documents_removed == 1 and report.passages_total == 6
    snap = IndexSnapshot.open(index_dir, specs_of([encoder]), vector_store=vector_store())
    assert snap.primary.count == snap.lexical.count == 6
    retriever = open_retriever(index_dir, encoder)
    for mode in (Mode.DENSE, Mode.LEXICAL, Mode.HYBRID):
        hits = retriever.search("widget1 topic1", 10, mode).hits
        assert all(not h.citation.source.endswith("doc01.txt") for h in hits)


def test_repeated_paragraph_is_stored_once(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rep.txt").write_text("Same words.\n\nOther words.\n\nSame words.\n")
    encoder = KeywordEncoder()
    report, _ = index_paths(tmp_path / "idx", encoder, folder)
    assert report.passages_total == 2 and len(encoder.encoded) == 2


def test_files_outside_the_folder_are_kept(tmp_path: Path) -> None:
    encoder = KeywordEncoder()
    _write_folder(tmp_path / "a", 2)
    _write_folder(tmp_path / "b", 2)
    index_paths(tmp_path / "idx", encoder, tmp_path / "a")
    report, _ = index_paths(tmp_path / "idx", encoder, tmp_path / "b")
    assert report.documents_total == 4 and report.documents_removed == 0


def test_broken_file_is_reported_and_others_indexed(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    _write_folder(folder, 2)
    (folder / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    report, errors = index_paths(tmp_path / "idx", KeywordEncoder(), folder)
    assert report.documents_total == 2
    assert len(errors) == 1 and errors[0].path.endswith("latin1.txt")
    assert "UTF-8" in errors[0].reason
