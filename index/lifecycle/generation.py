"""Index generations: immutable directories and the ``CURRENT`` pointer that picks one.

A commit writes a whole new ``gen-NNNNNN`` directory beside the old one, flushes it,
then atomically replaces ``CURRENT``. A crash at any instant therefore leaves
``CURRENT`` naming either the old or the new generation, both complete.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexLockedError, IndexNotFoundError
from index.fsutil import atomic_write_text, fsync_tree

CURRENT_NAME = "CURRENT"
LOCK_NAME = ".writer.lock"
_GEN = re.compile(r"^gen-(\d{6,})$")
_KEEP_PREVIOUS = 1  # readers that have not switched yet still find their files


def generation_dir(index_dir: Path, generation: int) -> Path:
    return index_dir / f"gen-{generation:06d}"


def current_generation(index_dir: Path) -> int | None:
    """The committed generation number, or None when nothing was ever committed."""
    try:
        name = (index_dir / CURRENT_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    match = _GEN.match(name)
    if match is None:
        raise IndexNotFoundError(f"{index_dir / CURRENT_NAME} names no generation: {name!r}")
    return int(match.group(1))


def require_current(index_dir: Path) -> Path:
    """The directory of the committed generation, or a clear error."""
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexNotFoundError(
            f"no index in {index_dir}; build one with `docqa index PATH...` "
            "(or point DOCQA_INDEX_DIR / --index-dir at an existing one)"
        )
    path = generation_dir(index_dir, generation)
    if not path.is_dir():
        raise IndexNotFoundError(f"{path} named by {CURRENT_NAME} is missing; rebuild the index")
    return path


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index directory; the lock dies with its process (``flock``)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"another process is writing to {index_dir}; wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def staging_dir(index_dir: Path, generation: int) -> Path:
    """A fresh directory to build ``generation`` in (left-overs of a crash are removed)."""
    path = index_dir / f".staging-{generation:06d}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def publish(index_dir: Path, staging: Path, generation: int) -> Path:
    """Make ``staging`` the committed ``generation``: flush, rename, switch CURRENT."""
    fsync_tree(staging)
    final = generation_dir(index_dir, generation)
    shutil.rmtree(final, ignore_errors=True)  # a crashed commit may have left it half-named
    os.replace(staging, final)
    atomic_write_text(index_dir / CURRENT_NAME, final.name + "\n")
    return final


def collect_garbage(index_dir: Path) -> None:
    """Remove staging left-overs and generations older than the previous one.

    Only called while holding the writer lock.
    """
    current = current_generation(index_dir)
    for child in index_dir.iterdir():
        if child.name.startswith(".staging-"):
            shutil.rmtree(child, ignore_errors=True)
            continue
        match = _GEN.match(child.name)
        if match is None or current is None:
            continue
        number = int(match.group(1))
        # Older than the previous generation, or published but never made CURRENT.
        if number < current - _KEEP_PREVIOUS or number > current:
            shutil.rmtree(child, ignore_errors=True)
