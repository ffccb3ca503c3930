"""Uploaded files and the index commit that references them agree after any crash.

An upload stages its files in a hidden ``.incoming-*`` folder. Just before the commit
publishes, it writes a journal there (each file's document id and content hash), keeps
any file it replaces as a backup, and moves the new files into place. Whoever finds the
folder afterwards (the upload itself, or the next server start after a kill -9) settles
it by asking the committed index: a document whose hash is there keeps its new file;
otherwise the move is undone. Either way the folder is then removed.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from index.errors import DocqaError
from index.fsutil import atomic_write_text, fsync_path
from index.lifecycle import generation as gen
from index.stores.passages import STORE_NAME, PassageStore

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".incoming-"
JOURNAL_NAME = "JOURNAL.json"
_LOCK_NAME = ".alive"
_BACKUP_PREFIX = ".old-"
_YOUNG_S = 60.0  # a folder this young without its lock may belong to a starting upload


@dataclass(frozen=True)
class JournalEntry:
    name: str
    document_id: str
    content_hash: str


@contextmanager
def alive(staging: Path) -> Iterator[None]:
    """Hold the staging folder's lock while its upload runs (dies with the process)."""
    with open(staging / _LOCK_NAME, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def move_into_place(staging: Path, data_dir: Path, entries: Sequence[JournalEntry]) -> None:
    """Journal the upload, then put its files in ``data_dir`` (old ones kept as backups)."""
    payload = json.dumps([asdict(e) for e in entries], ensure_ascii=False)
    atomic_write_text(staging / JOURNAL_NAME, payload)
    for entry in entries:
        final = data_dir / entry.name
        if final.exists():
            os.replace(final, staging / (_BACKUP_PREFIX + entry.name))
        os.replace(staging / entry.name, final)
    fsync_path(data_dir)


def _committed_hashes(index_dir: Path, ids: list[str]) -> dict[str, str | None]:
    try:
        current = gen.require_current(index_dir)
    except DocqaError:
        return {}
    store = PassageStore(current / STORE_NAME, read_only=True)
    try:
        return {i: store.document_hash(i) for i in ids}
    finally:
        store.close()


def settle(staging: Path, data_dir: Path, index_dir: Path) -> None:
    """Keep or undo a journaled upload's moves by what the index committed; remove it."""
    journal = staging / JOURNAL_NAME
    if journal.exists():
        entries = [JournalEntry(**e) for e in json.loads(journal.read_text(encoding="utf-8"))]
        committed = _committed_hashes(index_dir, [e.document_id for e in entries])
        for entry in entries:
            if committed.get(entry.document_id) == entry.content_hash:
                continue  # the index holds this version: its file is in place
            final, backup = data_dir / entry.name, staging / (_BACKUP_PREFIX + entry.name)
            if backup.exists():
                os.replace(backup, final)
            elif not (staging / entry.name).exists():
                final.unlink(missing_ok=True)  # moved in, never committed
        fsync_path(data_dir)
    shutil.rmtree(staging, ignore_errors=True)


def recover(data_dir: Path, index_dir: Path) -> int:
    """Settle the staging folders of uploads whose process died; returns how many."""
    if not data_dir.is_dir():
        return 0
    settled = 0
    for staging in sorted(data_dir.glob(STAGING_PREFIX + "*")):
        lock = staging / _LOCK_NAME
        if not lock.exists():
            if time.time() - staging.stat().st_mtime > _YOUNG_S:
                shutil.rmtree(staging, ignore_errors=True)
                settled += 1
            continue
        with open(lock, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live upload (another server process) owns it
            settle(staging, data_dir, index_dir)
            settled += 1
    if settled:
        logger.info("settled %d interrupted upload(s) in %s", settled, data_dir)
    return settled
