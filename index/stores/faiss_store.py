"""The embedded default vector store: one FAISS file per encoder in each generation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.encoders.base import Vectors
from index.encoders.specs import EncoderSpec
from index.errors import IndexMismatchError
from index.stores.base import AnnPolicy, RowFields, is_faiss_kind
from index.stores.faiss_index import DenseIndex, to_policy


class FaissWriter:
    """A :class:`DenseIndex` being edited in memory, written to the staging directory."""

    def __init__(self, spec: EncoderSpec, dense: DenseIndex) -> None:
        self._spec = spec
        self._dense = dense

    @property
    def count(self) -> int:
        return self._dense.count

    def add(self, vector_ids: list[int], vectors: Vectors, fields: Sequence[RowFields]) -> None:
        self._dense.add(vector_ids, vectors)  # metadata stays in SQLite in this store

    def remove(self, vector_ids: list[int]) -> None:
        self._dense.remove(vector_ids)

    def retag(self, vector_ids: list[int], fields: RowFields) -> None:
        return None  # filters read the SQLite store, which the writer already updated

    def finish(self, staging: Path, ann: AnnPolicy) -> str:
        self._dense = to_policy(self._dense, ann)
        self._dense.write(staging / self._spec.file)
        return self._dense.kind


class FaissStore:
    """The embedded default: one FAISS file per encoder inside each generation directory."""

    name = "faiss"

    def begin(self, index_dir: Path, specs: Sequence[EncoderSpec], committed: int | None) -> None:
        return None  # staging directories are removed by generation.collect_garbage

    def writer(self, spec: EncoderSpec, generation: int, source: Path | None) -> FaissWriter:
        dense = (
            DenseIndex.empty(spec.dimension)
            if source is None
            else DenseIndex.read(source / spec.file)
        )
        return FaissWriter(spec, dense)

    def reader(
        self, directory: Path, spec: EncoderSpec, generation: int, kind: str, *, mmap: bool
    ) -> DenseIndex:
        self.check_kind(directory, spec, kind)
        return DenseIndex.read(directory / spec.file, mmap=mmap)

    def check_kind(self, directory: Path, spec: EncoderSpec, kind: str) -> None:
        if not is_faiss_kind(kind):
            raise IndexMismatchError(
                f"the index in {directory} keeps its vectors in {kind!r}, not in FAISS files; "
                "set DOCQA_VECTOR_STORE=milvus (and DOCQA_MILVUS_URI) or rebuild with "
                "`docqa index --rebuild PATH...`"
            )

    def collect_garbage(
        self, index_dir: Path, specs: Sequence[EncoderSpec], committed: int
    ) -> None:
        return None  # old generation directories go with generation.collect_garbage
