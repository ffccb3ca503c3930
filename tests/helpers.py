"""Small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

from index.embedder import Embedder
from index.encoders import specs_of
from index.handle import IndexHandle
from index.ingest import FileError, discover, stage_paths
from index.writer import IndexWriter, IngestReport
from retriever.searcher import Retriever


def index_paths(
    index_dir: Path, embedder: Embedder, *paths: Path, rebuild: bool = False
) -> tuple[IngestReport, list[FileError]]:
    with IndexWriter(index_dir, embedder, rebuild=rebuild) as writer:
        errors = stage_paths(writer, discover(paths))
        return writer.commit(), errors


def open_retriever(index_dir: Path, embedder: Embedder) -> Retriever:
    return Retriever(IndexHandle(index_dir, specs_of([embedder])), embedder)
