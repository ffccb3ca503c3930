"""FAISS inner-product index over unit vectors, keyed by the store's vector ids."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from index.embedder import Vectors
from index.errors import IndexMismatchError

DENSE_NAME = "dense.faiss"


def drop_missing(
    scores: npt.NDArray[np.float32], ids: npt.NDArray[np.int64]
) -> list[tuple[int, float]]:
    """FAISS pads with id -1 when it has fewer than k hits; this is the one place we drop them."""
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True) if i >= 0]


class DenseIndex:
    """Exact inner-product search (``IndexIDMap2`` over ``IndexFlatIP``)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def empty(cls, dimension: int) -> DenseIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def read(cls, path: Path, *, mmap: bool = False) -> DenseIndex:
        if not path.exists():
            raise IndexMismatchError(f"{path} is missing; rebuild the index")
        # IO_FLAG_MMAP maps the vectors instead of reading them all into memory.
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(faiss.read_index(str(path), flags))

    def write(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

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
        return int(self._index.remove_ids(selector))  # type: ignore[arg-type]

    def search(
        self, queries: Vectors, k: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> list[list[tuple[int, float]]]:
        """Top-``k`` ``(vector_id, score)`` per query, best first.

        ``allowed`` restricts the search to those vector ids (metadata filters).
        """
        if self.count == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return [[] for _ in range(len(queries))]
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
        scores, ids = self._index.search(
            np.ascontiguousarray(queries), min(k, self.count), params=params
        )
        return [drop_missing(s, i) for s, i in zip(scores, ids, strict=True)]
