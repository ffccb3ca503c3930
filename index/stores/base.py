"""Where passage vectors live: the ``VectorStore`` interface (FAISS and Milvus implement it).

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
from index.filters import MetadataFilter, document_tags
from index.models import Ranked


@dataclass(frozen=True)
class AnnPolicy:
    """When and how to switch from exact to approximate search."""

    threshold: int = 200_000  # vectors; below this search stays exact
    nprobe: int = 32
    exact: bool = False  # True: always exact, whatever the size
    train_sample: int = 100_000


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


def is_faiss_kind(kind: str) -> bool:
    """Whether a manifest's index kind names FAISS files (``IDMap2,Flat``, ``IVF…,SQ8``)."""
    return not kind.startswith("milvus:")
