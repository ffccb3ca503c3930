"""Open one committed generation for reading, after checking it is whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.errors import IndexMismatchError
from index.generation import require_current
from index.lexical import LexicalIndex
from index.manifest import Manifest
from index.store import STORE_NAME, Store
from index.vectors import DENSE_NAME, DenseIndex


@dataclass(frozen=True)
class IndexSnapshot:
    """A read-only view of one generation: store, dense vectors and BM25, in step."""

    directory: Path
    manifest: Manifest
    store: Store
    dense: DenseIndex
    lexical: LexicalIndex

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @classmethod
    def open(
        cls, index_dir: Path, model: str, dimension: int, *, mmap: bool = False
    ) -> IndexSnapshot:
        """Open the committed generation of ``index_dir``.

        Raises:
            IndexNotFoundError: nothing was committed there.
            IndexMismatchError: other model or dimension, or counts that disagree.
        """
        directory = require_current(index_dir)
        manifest = Manifest.read(directory)
        manifest.check_compatible(model, dimension)
        dense = DenseIndex.read(directory / DENSE_NAME, mmap=mmap)
        lexical = LexicalIndex(directory, mmap=mmap)
        store = Store(directory / STORE_NAME, read_only=True)
        counts = {
            "manifest": manifest.count,
            "vectors": dense.count,
            "bm25": lexical.count,
            "passages": store.count_passages(),
        }
        if len(set(counts.values())) != 1 or dense.dimension != manifest.dimension:
            store.close()
            raise IndexMismatchError(
                f"index in {directory} is inconsistent ({counts}, dimension {dense.dimension}); "
                "rebuild it with `docqa index --rebuild PATH...`"
            )
        return cls(directory, manifest, store, dense, lexical)

    def close(self) -> None:
        self.store.close()
