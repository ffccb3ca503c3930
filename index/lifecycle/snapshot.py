"""Open one committed generation for reading, after checking it is whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.encoders.specs import EncoderSpec
from index.errors import IndexMismatchError
from index.lifecycle.generation import require_current
from index.lifecycle.manifest import Manifest
from index.stores.base import VectorIndex, VectorStore
from index.stores.faiss_store import FaissStore
from index.stores.lexical import LexicalIndex
from index.stores.passages import STORE_NAME, PassageStore
from index.stores.sentence_vectors import SentenceVectors


@dataclass(frozen=True)
class IndexSnapshot:
    """A read-only view of one generation: store, dense vectors and BM25, in step."""

    directory: Path
    manifest: Manifest
    store: PassageStore
    dense: dict[str, VectorIndex]  # encoder name -> its vectors (FAISS or Milvus)
    lexical: LexicalIndex
    sentences: SentenceVectors  # per-sentence vectors of every encoder

    @property
    def primary(self) -> VectorIndex:
        """Vectors of the first (primary) encoder."""
        return self.dense[self.manifest.encoder_specs[0].name]

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @classmethod
    def open(
        cls,
        index_dir: Path,
        specs: tuple[EncoderSpec, ...],
        *,
        mmap: bool = False,
        vector_store: VectorStore | None = None,
    ) -> IndexSnapshot:
        """Open the committed generation of ``index_dir``.

        Raises:
            IndexNotFoundError: nothing was committed there.
            IndexMismatchError: other model or dimension, or counts that disagree.
        """
        directory = require_current(index_dir)
        manifest = Manifest.read(directory)
        manifest.check_compatible(specs)
        store_of_vectors = vector_store or FaissStore()
        dense = {
            spec.name: store_of_vectors.reader(
                directory, spec, manifest.generation, manifest.vector_index, mmap=mmap
            )
            for spec in specs
        }
        lexical = LexicalIndex(directory, mmap=mmap)
        sentences = SentenceVectors.read(directory, specs, mmap=mmap)
        store = PassageStore(directory / STORE_NAME, read_only=True)
        counts = {
            "manifest": manifest.count,
            "bm25": lexical.count,
            "passages": store.count_passages(),
            **{f"vectors[{name}]": index.count for name, index in dense.items()},
        }
        if manifest.sentence_vectors:
            counts["sentence passages"] = sentences.passage_count()
        dims_ok = all(dense[s.name].dimension == s.dimension for s in specs)
        if len(set(counts.values())) != 1 or not dims_ok or sentences.count != manifest.sentences:
            store.close()
            raise IndexMismatchError(
                f"index in {directory} is inconsistent ({counts}, {sentences.count} "
                f"sentences for {manifest.sentences} in the manifest); "
                "rebuild it with `docqa index --rebuild PATH...`"
            )
        return cls(directory, manifest, store, dense, lexical, sentences)

    def close(self) -> None:
        self.store.close()
