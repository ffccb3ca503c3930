"""The ordered set of encoders an index is built with (the first is the primary one)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.encoders.base import Encoder


@dataclass(frozen=True)
class EncoderSpec:
    """What the manifest records of one encoder."""

    name: str
    dimension: int

    @property
    def file(self) -> str:
        """File of this encoder's FAISS index inside a generation."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name).strip("_") or "encoder"
        return f"dense-{slug}.faiss"


def as_encoders(encoders: Encoder | Sequence[Encoder]) -> tuple[Encoder, ...]:
    """Normalise one encoder or several into a non-empty tuple with distinct names."""
    found = (encoders,) if isinstance(encoders, Encoder) else tuple(encoders)
    if not found:
        raise ValueError("at least one encoder is needed")
    names = [e.name for e in found]
    if len(set(names)) != len(names):
        raise ValueError(f"encoder names must be distinct: {names}")
    return found


def specs_of(encoders: Sequence[Encoder]) -> tuple[EncoderSpec, ...]:
    return tuple(EncoderSpec(e.name, e.dimension) for e in encoders)
