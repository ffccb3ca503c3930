"""Sentence vectors pooled from the passage's own pass, instead of a second encoding.

The second ranking stage needs a vector per sentence. Encoding every sentence again
roughly doubles ingest work; the passage pass already computes a state for every token
in context, so a sentence's vector is the mean of the states of its tokens, normalised
(the same mean pooling the passage vector uses, over the sentence's tokens only).
Sentences no token reaches (cut off by an encoder's length limit) are encoded on their
own, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors, as_unit_vectors

Span = tuple[int, int]
#: ``(tokens, 2)`` character start and end of each token in the passage; ``(-1, -1)``
#: for tokens that belong to no character (``[CLS]``, a prefix, padding).
TokenSpans = npt.NDArray[np.int64]


@runtime_checkable
class SentencePooling(Protocol):
    """An encoder that gives sentence vectors from its passage pass."""

    def encode_passages_pooled(
        self, texts: list[str], sentences: Sequence[Sequence[Span]], batch_size: int = 32
    ) -> tuple[Vectors, Vectors]:
        """Passage vectors ``(n, d)`` (as ``encode_passages``) and the unit vectors of
        ``sentences[i]`` (character spans of ``texts[i]``), all texts' in order."""
        ...


def pool_sentences(
    states: npt.NDArray[np.float32], tokens: TokenSpans, sentences: Sequence[Span]
) -> tuple[npt.NDArray[np.float32], list[int]]:
    """Mean state of the tokens overlapping each sentence (not normalised).

    Returns:
        ``(len(sentences), d)`` means (zero rows for sentences no token overlaps) and the
        indices of those sentences.
    """
    out = np.zeros((len(sentences), states.shape[1]), dtype=np.float32)
    missing: list[int] = []
    starts, ends = tokens[:, 0], tokens[:, 1]
    for row, (start, end) in enumerate(sentences):
        chosen = (starts >= 0) & (ends > start) & (starts < end)
        if chosen.any():
            out[row] = states[chosen].mean(axis=0)
        else:
            missing.append(row)
    return out, missing


def finish(
    texts: list[str],
    sentences: Sequence[Sequence[Span]],
    pooled: list[npt.NDArray[np.float32]],
    missing: list[list[int]],
    encode: Callable[[list[str]], Vectors],
    dimension: int,
) -> Vectors:
    """All sentence vectors, in order: the pooled ones, and ``encode`` for the missing.

    Args:
        pooled: per text, its sentences' mean states (:func:`pool_sentences`).
        missing: per text, the sentences to encode on their own.
        encode: encodes sentence texts as passages.
    """
    alone = [
        (i, k, texts[i][sentences[i][k][0] : sentences[i][k][1]])
        for i, rows in enumerate(missing)
        for k in rows
    ]
    if alone:
        vectors = encode([text for _, _, text in alone])
        for (i, k, _), vector in zip(alone, vectors, strict=True):
            pooled[i][k] = vector
    if not pooled:
        return np.zeros((0, dimension), dtype=np.float32)
    return as_unit_vectors(np.concatenate(pooled), dimension)
