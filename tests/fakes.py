"""A deterministic keyword encoder for logic tests (no model, no randomness)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoders.base import Encoder, Vectors, as_unit_vectors

_WORD = re.compile(r"\w+", re.UNICODE)


class KeywordEncoder:
    """Bag of hashed lower-cased words: passages sharing words with a query score higher."""

    def __init__(self, dimension: int = 2048, name: str = "fake-keyword") -> None:
        self._dimension = dimension
        self._name = name
        self.encoded: list[str] = []  # every passage text embedded, for counting

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            bucket = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
            vector[bucket % self._dimension] += 1.0
        return vector

    def _encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return as_unit_vectors(np.stack([self._vector(t) for t in texts]), self._dimension)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        self.encoded.extend(texts)
        return self._encode(texts)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts)


class CountingEmbedder(KeywordEncoder):
    """Logs every batch it embeds to a file (one JSON line per batch), across processes.

    With ``fail_after`` it raises once that many batches are in the log: an ingest
    interrupted midway, for the resumability tests.
    """

    def __init__(self, log: Path, fail_after: int | None = None) -> None:
        super().__init__()
        self._log = log
        self._fail_after = fail_after

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        if self._fail_after is not None and len(logged_batches(self._log)) >= self._fail_after:
            raise RuntimeError("simulated interruption")
        vectors = super().encode_passages(texts, batch_size)
        with open(self._log, "a", encoding="utf-8") as handle:  # one short append per batch
            handle.write(json.dumps(texts, ensure_ascii=False) + "\n")
        return vectors


def logged_batches(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def counting_embedders(log: str, fail_after: int | None = None) -> list[Encoder]:
    """A picklable encoder factory for worker processes and Ray actors."""
    return [CountingEmbedder(Path(log), fail_after)]


class SlowEncoder(KeywordEncoder):
    """The keyword embedder, ``delay`` seconds per text."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32) -> Vectors:
        time.sleep(self.delay * len(texts))
        return super().encode_passages(list(texts), batch_size)
