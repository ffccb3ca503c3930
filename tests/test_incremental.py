"""Re-indexing a changed folder embeds only what changed and keeps every part in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.encoders.specs import specs_of
from index.lifecycle.generation import current_generation
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.snapshot import IndexSnapshot
from index.lifecycle.writer import IndexWriter, IngestReport
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


def _commit_changes(index_dir: Path, encoder: KeywordEncoder, *paths: Path) -> IngestReport:
    with IndexWriter(index_dir, encoder, vector_store=vector_store()) as writer:
        stage_paths(writer, discover(paths))
        return writer.commit_changes()


def _generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))


def test_nothing_changed_publishes_no_new_generation(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    _write_folder(folder, 2)
    encoder = KeywordEncoder()
    index_paths(index_dir, encoder, folder)
    broken = tmp_path / "latin1.txt"
    broken.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    # Every file failed, then every file unchanged: generation 1 stays CURRENT.
    for paths in ([broken], [folder]):
        report = _commit_changes(index_dir, encoder, *paths)
        assert report.generation == 1 and current_generation(index_dir) == 1
        assert (report.documents_total, report.passages_total) == (2, 6)
        assert _generations(index_dir) == ["gen-000001"]
    hits = open_retriever(index_dir, encoder).search("widget1", 1, Mode.DENSE).hits
    assert hits[0].citation.source.endswith("doc01.txt")
    # A removal is a change: it is committed.
    (folder / "doc00.txt").unlink()
    report = _commit_changes(index_dir, encoder, folder)
    assert report.generation == 2 and current_generation(index_dir) == 2
    assert report.documents_removed == 1 and report.documents_total == 1


def test_a_new_index_is_committed_even_when_every_file_failed(tmp_path: Path) -> None:
    # A first ingest publishes an (empty) index, as before: later searches find an
    # index with no documents rather than none at all.
    broken = tmp_path / "latin1.txt"
    broken.write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    report = _commit_changes(tmp_path / "idx", KeywordEncoder(), broken)
    assert report.generation == 1 and report.documents_total == 0
    assert current_generation(tmp_path / "idx") == 1
