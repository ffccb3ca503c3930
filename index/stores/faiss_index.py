"""FAISS inner-product index over unit vectors, keyed by the store's vector ids.

Small indexes are exact (``IndexIDMap2`` over ``IndexFlatIP``). Above
``AnnPolicy.threshold`` vectors the writer turns them into an inverted-file index with
8-bit scalar quantisation (``IVF{nlist},SQ8``): a quarter of the memory, and each
query scans ``nprobe`` lists instead of every vector.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors
from index.errors import IndexMismatchError
from index.filters import MetadataFilter
from index.stores.base import AnnPolicy

FLAT = "IDMap2,Flat"


def drop_missing(
    scores: npt.NDArray[np.float32], ids: npt.NDArray[np.int64]
) -> list[tuple[int, float]]:
    """FAISS pads with id -1 when it has fewer than k hits; this is the one place we drop them."""
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True) if i >= 0]


def nlist_for(count: int) -> int:
    """Inverted lists for ``count`` vectors: about 4·√n, kept trainable (≥ 39 points each)."""
    return int(max(16, min(65_536, 4 * math.sqrt(count), count // 39)))


class DenseIndex:
    """Inner-product search over vectors keyed by int64 vector ids."""

    def __init__(self, index: faiss.Index, nprobe: int | None = None) -> None:
        # FAISS's SWIG classes are only partly typed: this module is the one place that
        # touches them, so they are Any here and typed at this class's surface.
        self._index: Any = index
        self._ivf: Any = faiss.try_extract_index_ivf(index) if not _is_flat(index) else None
        # nprobe travels inside the written IVF index, so readers use the writer's setting.
        if nprobe is not None and self._ivf is not None:
            self._ivf.nprobe = nprobe
        self.nprobe = int(self._ivf.nprobe) if self._ivf is not None else 0

    @classmethod
    def empty(cls, dimension: int) -> DenseIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def read(cls, path: Path, *, mmap: bool = False, nprobe: int | None = None) -> DenseIndex:
        if not path.exists():
            raise IndexMismatchError(f"{path} is missing; rebuild the index")
        # IO_FLAG_MMAP maps the vectors instead of reading them all into memory.
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(faiss.read_index(str(path), flags), nprobe=nprobe)

    def write(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @property
    def kind(self) -> str:
        """``IDMap2,Flat`` or ``IVF{nlist},SQ8``, as recorded in the manifest."""
        return FLAT if self._ivf is None else f"IVF{self._ivf.nlist},SQ8"

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def add(self, vector_ids: list[int], vectors: Vectors) -> None:
        if vectors.shape != (len(vector_ids), self.dimension) or vectors.dtype != np.float32:
            raise ValueError(
                f"expected float32 vectors of shape ({len(vector_ids)}, {self.dimension}), "
                f"got {vectors.dtype} {vectors.shape}"
            )
        if vector_ids:
            self._index.add_with_ids(
                np.ascontiguousarray(vectors), np.asarray(vector_ids, dtype=np.int64)
            )

    def remove(self, vector_ids: list[int]) -> int:
        if not vector_ids:
            return 0
        selector = np.asarray(vector_ids, dtype=np.int64)
        return int(self._index.remove_ids(selector))

    def vectors(self) -> tuple[npt.NDArray[np.int64], Vectors]:
        """All ``(ids, vectors)``; exact for flat indexes, decoded (approximate) for SQ8."""
        if self._ivf is None:
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            flat: Any = faiss.downcast_index(self._index.index)
            data = faiss.rev_swig_ptr(flat.get_xb(), self.count * self.dimension)
            return ids, np.array(data, dtype=np.float32).reshape(self.count, self.dimension)
        invlists = self._ivf.invlists
        ids = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [
                faiss.rev_swig_ptr(invlists.get_ids(n), invlists.list_size(n)).astype(np.int64)
                for n in range(self._ivf.nlist)
                if invlists.list_size(n)
            ]
        )
        # A hash-table direct map lets us decode by id (the ids are not 0..n-1).
        self._ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        vectors = self._ivf.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.dimension))
        return ids, np.ascontiguousarray(vectors, dtype=np.float32)

    def search(
        self,
        queries: Vectors,
        k: int,
        allowed: npt.NDArray[np.int64] | None = None,
        filters: MetadataFilter | None = None,
    ) -> list[list[tuple[int, float]]]:
        """Top-``k`` ``(vector_id, score)`` per query, best first.

        ``allowed`` restricts the search to those vector ids (metadata filters). With an
        IVF index a filtered query probes every list: the allowed ids may sit anywhere.
        ``filters`` is ignored: FAISS keeps no metadata, ``allowed`` already applies it.
        """
        if self.count == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return [[] for _ in range(len(queries))]
        selector = faiss.IDSelectorBatch(allowed) if allowed is not None else None
        params: Any = None
        if self._ivf is not None:
            nprobe = self._ivf.nlist if selector is not None else self.nprobe
            params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector)  # type: ignore[call-arg]
        elif selector is not None:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = self._index.search(
            np.ascontiguousarray(queries), min(k, self.count), params=params
        )
        return [drop_missing(s, i) for s, i in zip(scores, ids, strict=True)]


def _is_flat(index: faiss.Index) -> bool:
    outer: Any = faiss.downcast_index(index)
    return isinstance(outer, faiss.IndexIDMap2 | faiss.IndexIDMap) and isinstance(
        faiss.downcast_index(outer.index), faiss.IndexFlat
    )


def to_policy(index: DenseIndex, policy: AnnPolicy) -> DenseIndex:
    """The index the policy wants for its size: exact below the threshold, IVF-SQ8 above.

    An IVF index is rebuilt (retrained) only when its size left the range it was
    trained for; otherwise it is kept and updated in place.
    """
    count = index.count
    want_ivf = not policy.exact and count >= policy.threshold
    if not want_ivf and index.kind == FLAT:
        return index
    if want_ivf and index.kind != FLAT:
        trained_for = int(index.kind[3:].split(",")[0])
        if nlist_for(count) // 2 <= trained_for <= nlist_for(count) * 2:
            return DenseIndex(index._index, nprobe=policy.nprobe)
    ids, vectors = index.vectors()
    if not want_ivf:
        rebuilt = DenseIndex.empty(index.dimension)
        rebuilt.add(ids.tolist(), vectors)
        return rebuilt
    nlist = nlist_for(count)
    ivf = faiss.index_factory(index.dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)  # a deterministic training sample
    size = min(count, max(policy.train_sample, 40 * nlist))  # k-means wants ~40 points a list
    sample = vectors[rng.choice(count, size=size, replace=False)]
    ivf.train(np.ascontiguousarray(sample))
    ivf.add_with_ids(np.ascontiguousarray(vectors), ids)
    return DenseIndex(ivf, nprobe=policy.nprobe)
