"""Where passage vectors live: the ``VectorStore`` interface and its FAISS implementation.

A store hands out two things per encoder:

* a :class:`VectorIndex`, the read-only view of one committed generation (search, count);
* a :class:`VectorWriter`, which stages the changes of the generation being built (add,
  remove, re-tag) and makes them durable in :meth:`VectorWriter.finish`.

Every store follows the generation rule of :mod:`index.lifecycle.generation`: nothing a writer
stages is visible to readers before ``CURRENT`` names the new generation, and a reader
pinned to generation *g* keeps seeing exactly generation *g*. The FAISS store gets this
for free (one file per generation); the Milvus store (:mod:`index.stores.milvus.store`) keeps a
generation interval on every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors
from index.encoders.specs import EncoderSpec
from index.errors import IndexMismatchError
from index.filters import MetadataFilter, document_tags
from index.stores.faiss_index import AnnPolicy, DenseIndex, to_policy

Ranked = list[tuple[int, float]]


@dataclass(frozen=True)
class RowFields:
    """What a store may keep beside a vector so metadata filters run inside it."""

    document_id: str
    tags: tuple[str, ...] = ()
    date: str = ""
    metadata: Mapping[str, object] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def of(cls, document_id: str, metadata: Mapping[str, object]) -> RowFields:
        date = metadata.get("date")
        return cls(
            document_id=document_id,
            tags=tuple(sorted(document_tags(metadata))),
            date=date if isinstance(date, str) else "",
            metadata=dict(metadata),
        )


class VectorIndex(Protocol):
    """Read-only vectors of one generation, searched by inner product."""

    @property
    def kind(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def count(self) -> int: ...

    def search(
        self,
        queries: Vectors,
        k: int,
        allowed: npt.NDArray[np.int64] | None = None,
        filters: MetadataFilter | None = None,
    ) -> list[Ranked]:
        """Top-``k`` ``(vector_id, score)`` per query, best first.

        ``allowed`` restricts to those vector ids. ``filters``, when given, is the
        metadata filter ``allowed`` was computed from: a store that keeps metadata may
        evaluate it itself instead of shipping the id list.
        """
        ...


class VectorWriter(Protocol):
    """The vectors of one encoder while a generation is built."""

    @property
    def count(self) -> int:
        """Vectors the generation will hold."""
        ...

    def add(self, vector_ids: list[int], vectors: Vectors, fields: Sequence[RowFields]) -> None:
        """Add vectors under new ids (``fields[i]`` describes ``vector_ids[i]``)."""
        ...

    def remove(self, vector_ids: list[int]) -> None: ...

    def retag(self, vector_ids: list[int], fields: RowFields) -> None:
        """Give kept vectors new filter fields (their document's metadata changed)."""
        ...

    def finish(self, staging: Path, ann: AnnPolicy) -> str:
        """Make the staged vectors durable (not yet visible); returns the index kind."""
        ...


class VectorStore(Protocol):
    """A backend for passage vectors: FAISS files per generation, or a Milvus collection."""

    @property
    def name(self) -> str: ...

    def begin(self, index_dir: Path, specs: Sequence[EncoderSpec], committed: int | None) -> None:
        """Called by a writer holding the lock: undo what a crashed writer left behind."""
        ...

    def writer(self, spec: EncoderSpec, generation: int, source: Path | None) -> VectorWriter:
        """Stage ``generation`` from ``source`` (the previous one), or from nothing."""
        ...

    def reader(
        self, directory: Path, spec: EncoderSpec, generation: int, kind: str, *, mmap: bool
    ) -> VectorIndex:
        """Open the vectors of a committed generation (``kind`` from its manifest)."""
        ...

    def check_kind(self, directory: Path, spec: EncoderSpec, kind: str) -> None:
        """Refuse a generation whose manifest says its vectors live in another store."""
        ...

    def collect_garbage(
        self, index_dir: Path, specs: Sequence[EncoderSpec], committed: int
    ) -> None:
        """Drop what no reader of ``committed`` or the generation before it can need."""
        ...


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


def is_faiss_kind(kind: str) -> bool:
    """Whether a manifest's index kind names FAISS files (``IDMap2,Flat``, ``IVF…,SQ8``)."""
    return not kind.startswith("milvus:")


def open_vector_store(
    kind: str,
    *,
    uri: str = "",
    token: str = "",
    collection: str = "docqa",
    index_type: str = "auto",
) -> VectorStore:
    """The store a setting names: ``faiss`` (default, embedded) or ``milvus``."""
    if kind == "faiss":
        return FaissStore()
    if kind == "milvus":
        from index.stores.milvus.store import MilvusStore

        return MilvusStore(uri, token=token, collection=collection, index_type=index_type)
    raise ValueError(f"unknown vector store {kind!r}; use faiss or milvus")
