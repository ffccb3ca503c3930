"""Padded batches of similar-length token sequences, so little compute goes to padding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices into ``lengths``, shortest first, cut into batches of ``batch_size``."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    step = max(batch_size, 1)
    for start in range(0, len(order), step):
        yield order[start : start + step]


def pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[IdArray, IdArray]:
    """``(ids, mask)``: ``rows`` padded with ``pad_id`` to the longest, mask 1 on tokens."""
    length = max((len(r) for r in rows), default=0)
    ids = np.full((len(rows), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=np.int64)
    for row, tokens in enumerate(rows):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    return ids, mask


def padded_batches(
    rows: Sequence[Sequence[int]], batch_size: int, pad_id: int
) -> Iterator[tuple[list[int], IdArray, IdArray]]:
    """``(indices into rows, ids, mask)`` of similar-length rows, padded per batch."""
    for chosen in length_sorted_batches([len(r) for r in rows], batch_size):
        ids, mask = pad([rows[i] for i in chosen], pad_id)
        yield chosen, ids, mask
