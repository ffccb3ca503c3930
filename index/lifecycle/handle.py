"""A reader's handle on an index directory that follows new commits."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from index.encoders.specs import EncoderSpec
from index.errors import DocqaError
from index.lifecycle.generation import CURRENT_NAME, current_generation
from index.lifecycle.snapshot import IndexSnapshot
from index.stores.base import VectorStore

logger = logging.getLogger(__name__)


class IndexHandle:
    """Hands out the current snapshot, switching when a writer commits a new generation.

    A reader keeps using the snapshot it was given; the old generation's files stay
    readable (open handles survive deletion) until it is done.
    """

    def __init__(
        self,
        index_dir: Path,
        specs: tuple[EncoderSpec, ...],
        *,
        mmap: bool = False,
        vector_store: VectorStore | None = None,
    ) -> None:
        self.index_dir = index_dir
        self._specs = specs
        self._mmap = mmap
        self._vector_store = vector_store
        self._lock = threading.Lock()
        self._pointer: tuple[tuple[int, int, int], int | None] | None = None
        self._snapshot = IndexSnapshot.open(index_dir, specs, mmap=mmap, vector_store=vector_store)

    def _latest(self) -> int | None:
        """``current_generation``, re-read only when ``CURRENT`` was replaced.

        A commit renames a new ``CURRENT`` into place, which changes its inode and
        mtime; a ``stat`` per search is cheaper than opening and reading the file.
        """
        try:
            info = os.stat(self.index_dir / CURRENT_NAME)
        except FileNotFoundError:
            return None
        key = (info.st_ino, info.st_mtime_ns, info.st_size)
        cached = self._pointer
        if cached is not None and cached[0] == key:
            return cached[1]
        latest = current_generation(self.index_dir)
        self._pointer = (key, latest)
        return latest

    def current(self) -> IndexSnapshot:
        """The newest committed snapshot (re-opened only when the generation changed)."""
        latest = self._latest()
        snapshot = self._snapshot
        if latest is None or latest == snapshot.generation:
            return snapshot
        with self._lock:
            if self._snapshot.generation != latest:
                try:
                    fresh = IndexSnapshot.open(
                        self.index_dir,
                        self._specs,
                        mmap=self._mmap,
                        vector_store=self._vector_store,
                    )
                except DocqaError as exc:  # keep answering from the generation we have
                    logger.warning("cannot open index generation %d: %s", latest, exc)
                    return self._snapshot
                logger.info("switched to index generation %d", fresh.generation)
                self._snapshot = fresh  # the old one is closed by garbage collection
            return self._snapshot
