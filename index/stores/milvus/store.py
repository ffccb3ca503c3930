"""Passage vectors in Milvus (a cluster, or Milvus Lite for one machine and the tests).

One collection per encoder, ``<collection>_<encoder slug>``. Each row is one passage
vector at one span of generations::

    pk         INT64 primary key = vector_id << 24 | (gen_from mod 2**24)
    vector_id  INT64   the SQLite store's passage id
    vector     FLOAT_VECTOR(d), unit length, metric IP (= cosine, = the FAISS scores)
    gen_from   INT64   first generation that sees the row
    gen_to     INT64   first generation that does not (2**62 while live)
    document_id, date  VARCHAR;  tags, metadata  JSON   (for metadata filters)

Consistency rule: a reader of generation *g* searches ``gen_from <= g < gen_to`` with
Strong consistency. A writer building generation *g* only inserts rows with
``gen_from = g`` and retires rows by setting ``gen_to = g``, so nothing it does is
visible until ``CURRENT`` names *g* -- the same atomic switch the FAISS store uses.
A crashed writer's rows (``gen_from > committed``, or ``gen_to`` between committed and
live) are rolled back by the next writer under the writer lock, and rows no reader of
the current or previous generation can see are deleted after each commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors
from index.encoders.specs import EncoderSpec
from index.errors import DocqaError, IndexMismatchError
from index.filters import MetadataFilter
from index.models import Ranked
from index.stores.base import AnnPolicy, RowFields
from index.stores.milvus.client import (
    MAX_LIMIT,
    Collection,
    connect,
    is_local,
    milvus_errors,
)
from index.stores.milvus.filters import to_expression

LIVE = 2**62
_GEN_BITS = 24
_IDS_PER_CALL = 1000  # vector ids per expression


def _pk(vector_id: int, generation: int) -> int:
    return (vector_id << _GEN_BITS) | (generation % (1 << _GEN_BITS))


def _visible(generation: int) -> str:
    return f"gen_from <= {generation} and gen_to > {generation}"


def _ids_in(vector_ids: Sequence[int]) -> str:
    return "vector_id in [" + ",".join(str(int(v)) for v in vector_ids) + "]"


def _metadata(fields: RowFields) -> dict[str, object]:
    # JSON columns take JSON values only; the SQLite store writes metadata the same way.
    loaded: dict[str, object] = json.loads(json.dumps(dict(fields.metadata), default=str))
    return loaded


def _chunks(values: Sequence[int], size: int = _IDS_PER_CALL) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class MilvusIndex:
    """The vectors of one encoder as generation ``generation`` sees them."""

    def __init__(self, collection: Collection, dimension: int, generation: int, kind: str):
        self._collection = collection
        self._dimension = dimension
        self._generation = generation
        self._kind = kind
        self._count = collection.count(_visible(generation))

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def count(self) -> int:
        return self._count

    def search(
        self,
        queries: Vectors,
        k: int,
        allowed: npt.NDArray[np.int64] | None = None,
        filters: MetadataFilter | None = None,
    ) -> list[Ranked]:
        """Top-``k`` per query; ``filters`` runs inside Milvus when it can be expressed."""
        if self._count == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return [[] for _ in range(len(queries))]
        expression = _visible(self._generation)
        pushed = None if filters is None or filters.is_empty() else to_expression(filters)
        if pushed:
            expression += f" and ({pushed})"
        elif allowed is not None:
            expression += " and " + _ids_in(allowed.tolist())
        limit = min(k, self._count, MAX_LIMIT)
        found = self._collection.call(
            "search",
            data=np.ascontiguousarray(queries, dtype=np.float32).tolist(),
            limit=limit,
            filter=expression,
            search_params={"metric_type": "IP", "params": {"ef": max(64, limit)}},
        )
        return [[(int(h["pk"]) >> _GEN_BITS, float(h["distance"])) for h in hits] for hits in found]


class MilvusWriter:
    """Stages one encoder's changes as rows of generation ``generation``."""

    def __init__(self, collection: Collection, generation: int, kind: str) -> None:
        self._collection = collection
        self._generation = generation
        self._kind = kind

    @property
    def count(self) -> int:
        return self._collection.count(_visible(self._generation))

    def _row(self, vector_id: int, vector: Sequence[float], fields: RowFields) -> dict[str, Any]:
        return {
            "pk": _pk(vector_id, self._generation),
            "vector_id": vector_id,
            "vector": vector,
            "gen_from": self._generation,
            "gen_to": LIVE,
            "document_id": fields.document_id,
            "date": fields.date,
            "tags": list(fields.tags),
            "metadata": _metadata(fields),
        }

    def add(self, vector_ids: list[int], vectors: Vectors, fields: Sequence[RowFields]) -> None:
        if vectors.shape[0] != len(vector_ids) or len(fields) != len(vector_ids):
            raise ValueError(
                f"{len(vector_ids)} ids, {vectors.shape[0]} vectors, {len(fields)} rows"
            )
        rows = [
            self._row(int(vid), vec, f)
            for vid, vec, f in zip(vector_ids, vectors.tolist(), fields, strict=True)
        ]
        self._collection.upsert(rows)

    def remove(self, vector_ids: list[int]) -> None:
        for part in _chunks(vector_ids):
            self._collection.set_gen_to(f"{_ids_in(part)} and gen_to == {LIVE}", self._generation)

    def retag(self, vector_ids: list[int], fields: RowFields) -> None:
        for part in _chunks(vector_ids):
            live = f"{_ids_in(part)} and gen_to == {LIVE}"
            old = self._collection.rows(live, ["pk", "vector_id", "vector"])
            self._collection.set_gen_to(live, self._generation)
            self._collection.upsert(
                [self._row(int(r["vector_id"]), list(r["vector"]), fields) for r in old]
            )

    def finish(self, staging: Path, ann: AnnPolicy) -> str:
        self._collection.call("flush")
        return self._kind


class MilvusStore:
    """Vectors in Milvus; text, BM25 and sentence vectors stay in the generation directory."""

    name = "milvus"

    def __init__(
        self, uri: str, *, token: str = "", collection: str = "docqa", index_type: str = "auto"
    ) -> None:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", collection):
            raise DocqaError(f"Milvus collection name {collection!r}: use letters, digits and _")
        self.uri = uri
        self.collection = collection
        # Milvus Lite searches exactly (FLAT), the same results as the FAISS default;
        # a cluster gets HNSW, the usual choice for low-latency search at scale.
        chosen = index_type.upper()
        self.index_type = ("FLAT" if is_local(uri) else "HNSW") if chosen == "AUTO" else chosen
        self._client, self._lock = connect(uri, token)
        self._loaded: set[str] = set()

    def collection_name(self, spec: EncoderSpec) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", spec.name).strip("_") or "encoder"
        return f"{self.collection}_{slug}"

    def kind(self, spec: EncoderSpec) -> str:
        return f"milvus:{self.collection_name(spec)}/{self.index_type}/IP"

    def _open(self, spec: EncoderSpec, *, create: bool) -> Collection:
        name = self.collection_name(spec)
        with self._lock, milvus_errors(f"opening {name}"):
            exists = self._client.has_collection(name)
            if not exists and not create:
                raise IndexMismatchError(
                    f"Milvus collection {name!r} is missing at {self.uri}; rebuild the index "
                    "with `docqa index --rebuild PATH...`"
                )
            if not exists:
                self._create(name, spec.dimension)
            elif name not in self._loaded:
                # A collection persisted by another process starts released; loading is
                # idempotent, and needed once per process before search or query.
                self._client.load_collection(name)
            self._loaded.add(name)
        return Collection(self._client, self._lock, name)

    def _create(self, name: str, dimension: int) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("vector_id", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("gen_from", DataType.INT64)
        schema.add_field("gen_to", DataType.INT64)
        schema.add_field("document_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("date", DataType.VARCHAR, max_length=64)
        schema.add_field("tags", DataType.JSON)
        schema.add_field("metadata", DataType.JSON)
        params = self._client.prepare_index_params()
        build = {"M": 16, "efConstruction": 200} if self.index_type == "HNSW" else {}
        params.add_index("vector", index_type=self.index_type, metric_type="IP", params=build)
        self._client.create_collection(
            name, schema=schema, index_params=params, consistency_level="Strong"
        )

    def begin(self, index_dir: Path, specs: Sequence[EncoderSpec], committed: int | None) -> None:
        done = committed or 0
        for spec in specs:
            collection = self._open(spec, create=True)
            collection.delete(f"gen_from > {done}")
            collection.set_gen_to(f"gen_to > {done} and gen_to < {LIVE}", LIVE)

    def writer(self, spec: EncoderSpec, generation: int, source: Path | None) -> MilvusWriter:
        collection = self._open(spec, create=True)
        if source is None:  # a rebuild: every live row leaves with this generation
            collection.set_gen_to(f"gen_to == {LIVE}", generation)
        return MilvusWriter(collection, generation, self.kind(spec))

    def check_kind(self, directory: Path, spec: EncoderSpec, kind: str) -> None:
        if f"milvus:{self.collection_name(spec)}/" not in kind:
            raise IndexMismatchError(
                f"the index in {directory} keeps its vectors in {kind!r}, not in Milvus "
                f"collection {self.collection_name(spec)!r}; set DOCQA_VECTOR_STORE / "
                "DOCQA_MILVUS_COLLECTION to match or rebuild with `docqa index --rebuild`"
            )

    def reader(
        self, directory: Path, spec: EncoderSpec, generation: int, kind: str, *, mmap: bool
    ) -> MilvusIndex:
        self.check_kind(directory, spec, kind)
        return MilvusIndex(self._open(spec, create=False), spec.dimension, generation, kind)

    def collect_garbage(
        self, index_dir: Path, specs: Sequence[EncoderSpec], committed: int
    ) -> None:
        for spec in specs:
            self._open(spec, create=True).delete(f"gen_to <= {committed - 1}")
