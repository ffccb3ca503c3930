"""A cross-encoder (question and passage read together) as the second stage, when configured."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import DocqaError
from retriever.types import Floats


class PairScorer(Protocol):
    """Scores ``(question, passage)`` pairs; higher means more relevant."""

    def score(self, question: str, passages: Sequence[str]) -> Floats: ...


class CrossEncoderScorer:
    """A local sentence-transformers ``CrossEncoder`` directory."""

    def __init__(self, path: Path, device: str | None = None, batch_size: int = 32) -> None:
        from sentence_transformers import CrossEncoder

        if not path.is_dir():
            raise DocqaError(
                f"cross-encoder {path} is not a directory; set DOCQA_CROSS_ENCODER to a local "
                "sentence-transformers CrossEncoder folder, or unset it"
            )
        try:
            self._model = CrossEncoder(str(path), device=device)
        except (OSError, ValueError) as exc:
            raise DocqaError(f"cannot load cross-encoder {path}: {exc}") from exc
        self._batch_size = batch_size
        # One forward pass at a time: the API calls from a thread pool.
        self._lock = threading.Lock()

    def score(self, question: str, passages: Sequence[str]) -> Floats:
        if not passages:
            return np.zeros(0)
        with self._lock:
            raw = self._model.predict(
                [(question, text) for text in passages],
                batch_size=self._batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        scores = np.asarray(raw, dtype=np.float64)
        # A model with several labels scores relevance with its last one.
        return scores[:, -1] if scores.ndim == 2 else scores
