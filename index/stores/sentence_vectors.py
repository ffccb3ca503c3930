"""Sentence vectors of every passage, under every encoder, kept beside the passage vectors.

The second ranking stage scores a candidate passage by its best sentence. Embedding the
sentences of ~50 candidates per question would cost seconds on a CPU, so they are
embedded once, at index time, and stored per generation as ``.npy`` files:

``sentences/spans.npy``
    ``int64 (m, 3)``: passage vector id, sentence start and end (offsets in the passage
    text), sorted by vector id so one passage's sentences are one contiguous row range.
``sentences/<encoder file stem>.npy``
    ``float32 (m, d)`` unit vectors, row for row with ``spans.npy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from index.encoders.base import Encoder, Vectors
from index.encoders.specs import EncoderSpec
from index.errors import IndexMismatchError
from index.passages.sentences import sentence_spans

SENTENCES_DIR = "sentences"
_SPANS_NAME = "spans.npy"
Ids = npt.NDArray[np.int64]


def sentences_to_embed(passages: Iterable[str]) -> list[str]:
    """Distinct sentence texts of ``passages`` that are not a whole passage, longest first.

    A one-sentence passage is its own sentence and already has a vector. Longest first
    keeps padding inside each encoder batch small.
    """
    whole = set(passages)
    found = {text[a:b] for text in whole for a, b in sentence_spans(text)}
    return sorted(found - whole, key=lambda t: (-len(t), t))


def _vectors_name(spec: EncoderSpec) -> str:
    return spec.file.removesuffix(".faiss") + ".npy"


@dataclass(frozen=True)
class SentenceRows:
    """The sentences of some passages: ``vector_ids[i]`` owns ``spans[i]`` and ``vectors[.][i]``."""

    vector_ids: Ids
    spans: Ids  # (n, 2) start, end in the passage text
    vectors: Mapping[str, Vectors]  # encoder name -> (n, d)


class SentenceVectors:
    """Sentence spans and vectors keyed by passage vector id, for one generation."""

    def __init__(self, specs: Sequence[EncoderSpec], spans: Ids, vectors: dict[str, Vectors]):
        self._specs = tuple(specs)
        self._spans = spans
        self._vectors = vectors

    @classmethod
    def empty(cls, specs: Sequence[EncoderSpec]) -> SentenceVectors:
        """No sentences yet, for an index built from scratch."""
        return cls(
            specs,
            np.zeros((0, 3), dtype=np.int64),
            {s.name: np.zeros((0, s.dimension), dtype=np.float32) for s in specs},
        )

    @classmethod
    def read(
        cls, directory: Path, specs: Sequence[EncoderSpec], *, mmap: bool = False
    ) -> SentenceVectors:
        """Load a generation's sentence files; shapes are checked against ``specs``.

        Raises:
            IndexMismatchError: a file is missing or its shape disagrees.
        """
        target = directory / SENTENCES_DIR
        mode: Literal["r"] | None = "r" if mmap else None
        try:
            spans = np.load(target / _SPANS_NAME, mmap_mode=mode)
            vectors = {s.name: np.load(target / _vectors_name(s), mmap_mode=mode) for s in specs}
        except FileNotFoundError as exc:
            raise IndexMismatchError(
                f"{exc.filename} is missing; rebuild with `docqa index --rebuild PATH...`"
            ) from exc
        bad = [s.name for s in specs if vectors[s.name].shape != (len(spans), s.dimension)] + (
            [] if spans.ndim == 2 and spans.shape[1] == 3 else ["spans"]
        )
        if bad:
            raise IndexMismatchError(
                f"sentence files in {target} disagree in shape ({', '.join(bad)}); "
                "rebuild with `docqa index --rebuild PATH...`"
            )
        return cls(specs, spans, vectors)

    @property
    def count(self) -> int:
        """Number of sentences."""
        return int(len(self._spans))

    def passage_count(self) -> int:
        """Number of distinct passages that have sentences."""
        return int(len(np.unique(self._spans[:, 0]))) if self.count else 0

    def write(self, directory: Path) -> None:
        """Write the files into a (staging) generation directory."""
        target = directory / SENTENCES_DIR
        target.mkdir(parents=True, exist_ok=True)
        np.save(target / _SPANS_NAME, np.ascontiguousarray(self._spans))
        for spec in self._specs:
            np.save(target / _vectors_name(spec), np.ascontiguousarray(self._vectors[spec.name]))

    def remove(self, vector_ids: Sequence[int]) -> None:
        """Drop the sentences of these passages."""
        if not vector_ids or not self.count:
            return
        keep = ~np.isin(self._spans[:, 0], np.asarray(vector_ids, dtype=np.int64))
        self._spans = self._spans[keep]
        self._vectors = {name: v[keep] for name, v in self._vectors.items()}

    def add(
        self,
        passages: Mapping[str, Sequence[int]],
        encoders: Sequence[Encoder],
        passage_vectors: Mapping[str, Mapping[str, Vectors]],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
        step: int | None = None,
    ) -> None:
        """Split and embed passages; ``passages`` maps a passage text to its vector ids.

        Args:
            passages: Passage text -> the vector ids that carry it.
            encoders: Every encoder of the index.
            passage_vectors: Encoder name -> passage text -> its (d,) vector; a one-sentence
                passage reuses it instead of being embedded twice.
            batch_size: Sentences per encoder batch.
            progress: Called with the number of sentence texts embedded so far.
            step: Sentences per encoder call (default four batches).
        """
        rows: list[tuple[int, int, int]] = []
        texts: list[str] = []
        for text, ids in passages.items():
            for start, end in sentence_spans(text):
                texts.extend([text[start:end]] * len(ids))
                rows.extend((vid, start, end) for vid in ids)
        if not rows:
            return
        fresh = sentences_to_embed(passages)
        unique = [*fresh, *sorted({t for t in texts if t in passages})]
        position = {text: i for i, text in enumerate(unique)}
        order = np.asarray([position[t] for t in texts], dtype=np.int64)
        step = step or max(1, batch_size * 4)
        done = 0
        added: dict[str, Vectors] = {}
        for encoder in encoders:
            parts = [np.zeros((0, encoder.dimension), dtype=np.float32)]
            for start in range(0, len(fresh), step):
                parts.append(encoder.encode_passages(fresh[start : start + step], batch_size))
                done += len(parts[-1])
                if progress is not None:
                    progress(done)
            known = passage_vectors[encoder.name]
            parts.extend(known[t][None, :] for t in unique[len(fresh) :])
            added[encoder.name] = np.concatenate(parts)[order]
        self._append(rows, added)

    def add_pooled(
        self,
        passages: Mapping[str, Sequence[int]],
        spans: Mapping[str, Sequence[tuple[int, int]]],
        sentence_vectors: Mapping[str, Mapping[str, Vectors]],
        passage_vectors: Mapping[str, Mapping[str, Vectors]],
    ) -> None:
        """Add sentences whose vectors the encoders pooled from the passage pass.

        Args:
            passages: Passage text -> the vector ids that carry it.
            spans: Passage text -> its ``sentence_spans``, as the encoders pooled them.
            sentence_vectors: Encoder name -> passage text -> ``(k, d)`` vectors of its
                ``spans``, in order (``SentencePooling``).
            passage_vectors: Encoder name -> passage text -> its (d,) vector; a sentence
                that is the whole passage takes it, as :meth:`add` does.
        """
        rows: list[tuple[int, int, int]] = []
        parts: dict[str, list[Vectors]] = {name: [] for name in sentence_vectors}
        for text, ids in passages.items():
            found = spans[text]
            whole = [text[a:b] == text for a, b in found]
            rows.extend((vid, a, b) for vid in ids for a, b in found)
            for name, vectors in sentence_vectors.items():
                own = np.array(vectors[text], dtype=np.float32, copy=True)
                own[whole] = passage_vectors[name][text]
                parts[name].extend([own] * len(ids))
        if not rows:
            return
        self._append(rows, {name: np.concatenate(found) for name, found in parts.items()})

    def _append(self, rows: list[tuple[int, int, int]], added: Mapping[str, Vectors]) -> None:
        spans = np.concatenate([self._spans, np.asarray(rows, dtype=np.int64)])
        vectors = {n: np.concatenate([v, added[n]]) for n, v in self._vectors.items()}
        # Sorted by vector id (stable: sentence order within a passage is kept).
        by_id = np.argsort(spans[:, 0], kind="stable")
        self._spans = spans[by_id]
        self._vectors = {n: np.ascontiguousarray(v[by_id]) for n, v in vectors.items()}

    def rows_of(self, vector_ids: Sequence[int]) -> SentenceRows:
        """The sentences of these passages (passages without sentences contribute none)."""
        wanted = np.asarray(vector_ids, dtype=np.int64)
        owners = self._spans[:, 0]
        low = np.searchsorted(owners, wanted, side="left")
        high = np.searchsorted(owners, wanted, side="right")
        ranges = [np.arange(a, b, dtype=np.int64) for a, b in zip(low, high, strict=True)]
        index = np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)
        return SentenceRows(
            vector_ids=np.asarray(owners[index], dtype=np.int64),
            spans=np.asarray(self._spans[index, 1:], dtype=np.int64),
            vectors={n: np.asarray(v[index], dtype=np.float32) for n, v in self._vectors.items()},
        )
