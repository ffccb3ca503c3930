"""Store uploaded files in the data directory and index them through the single writer.

File names come from clients, so they are reduced to a safe base name and the final
path is checked to lie directly inside the data directory before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from index.encoders.base import Encoder
from index.errors import DocqaError, DocumentNotFoundError, IndexLockedError, UnsupportedFormatError
from index.formats import supported_suffixes
from index.ids import document_id_for_path
from index.lifecycle.ingest import load_document
from index.lifecycle.writer import IndexWriter, IngestReport
from index.stores.base import AnnPolicy, VectorStore

_CHUNK = 1 << 16
_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_NAME_BYTES = 255


class UploadError(DocqaError):
    """An upload that is refused as a whole; nothing of it was written or indexed."""


class UnsafeFilenameError(UploadError):
    """The file name is empty, absolute, hidden or climbs out of the data directory."""


class UploadTooLargeError(UploadError):
    """A file (or the number of files) exceeds the configured limit."""


def safe_filename(raw: str) -> str:
    """The base name to store an upload under.

    Raises:
        UnsafeFilenameError: ``raw`` is empty, absolute, has a ``..`` component, control
            characters, or a hidden or over-long base name.
    """
    if not raw or not raw.strip():
        raise UnsafeFilenameError("file name is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise UnsafeFilenameError(f"file name {raw!r} contains control characters")
    path = raw.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        raise UnsafeFilenameError(f"file name {raw!r} is an absolute path")
    parts = path.split("/")
    if ".." in parts:
        raise UnsafeFilenameError(f"file name {raw!r} climbs out of the upload directory")
    name = parts[-1].strip()
    if not name or name.startswith("."):
        raise UnsafeFilenameError(f"file name {raw!r} is empty or hidden")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise UnsafeFilenameError(f"file name is longer than {_MAX_NAME_BYTES} bytes")
    return name


def target_path(data_dir: Path, name: str) -> Path:
    """``data_dir / name``, checked to be a direct child of the resolved data directory."""
    root = data_dir.resolve()
    target = (root / name).resolve()
    # resolve() follows symlinks, so a planted link pointing elsewhere fails this too.
    if target.parent != root:
        raise UnsafeFilenameError(f"file name {name!r} resolves outside the upload directory")
    return target


@dataclass(frozen=True)
class IncomingFile:
    """One uploaded file: its client-side name, its bytes and its metadata."""

    filename: str
    stream: BinaryIO
    metadata: Mapping[str, object]


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    filename: str
    title: str
    status: str
    passages: int


@dataclass(frozen=True)
class UploadResult:
    report: IngestReport
    documents: tuple[StoredDocument, ...]


class UploadInbox:
    """Writes uploads into ``data_dir`` and the index in ``index_dir``, one writer at a time."""

    def __init__(
        self,
        data_dir: Path,
        index_dir: Path,
        encoders: Sequence[Encoder],
        *,
        batch_size: int = 32,
        max_file_bytes: int,
        wait_seconds: float = 10.0,
        ann: AnnPolicy | None = None,
        vector_store: VectorStore | None = None,
        sentence_vectors: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self._ann = ann
        self._sentence_vectors = sentence_vectors
        self._vector_store = vector_store
        self._index_dir = index_dir
        self._encoders = encoders
        self._batch_size = batch_size
        self._max_file_bytes = max_file_bytes
        self._wait_seconds = wait_seconds
        # Writers of this process queue here; the index's file lock only guards
        # against other processes (and would make a second writer here fail at once).
        self._lock = threading.Lock()

    @contextmanager
    def _writer(self) -> Iterator[IndexWriter]:
        with self._lock, ExitStack() as stack:
            deadline = time.monotonic() + self._wait_seconds
            while True:
                try:
                    writer = stack.enter_context(
                        IndexWriter(
                            self._index_dir,
                            self._encoders,
                            batch_size=self._batch_size,
                            ann=self._ann,
                            vector_store=self._vector_store,
                            sentence_vectors=self._sentence_vectors,
                        )
                    )
                    break
                except IndexLockedError:
                    # Another process (e.g. `docqa index`) is committing: wait a little.
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            yield writer

    def _check(self, files: Sequence[IncomingFile]) -> list[str]:
        names = [safe_filename(f.filename) for f in files]
        suffixes = set(supported_suffixes())
        for name in names:
            suffix = Path(name).suffix.lower()
            if suffix not in suffixes:
                raise UnsupportedFormatError(
                    name,
                    f"unsupported file type {suffix or '(none)'!r}; "
                    f"supported: {', '.join(sorted(suffixes))}",
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise UploadError(f"the same file name twice in one upload: {', '.join(duplicates)}")
        return names

    def _copy(self, stream: BinaryIO, path: Path, name: str) -> None:
        written = 0
        with open(path, "xb") as out:
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                if written > self._max_file_bytes:
                    raise UploadTooLargeError(
                        f"{name} is larger than the upload limit of {self._max_file_bytes} bytes"
                    )
                out.write(chunk)

    def add(self, files: Sequence[IncomingFile]) -> UploadResult:
        """Store and index ``files`` in one commit; all or nothing.

        Raises:
            UnsafeFilenameError, UnsupportedFormatError, UploadTooLargeError, UploadError:
                the upload was refused before anything was indexed.
            ExtractionError: a file could not be read as its type.
            IndexLockedError: another process kept the index locked too long.
        """
        names = self._check(files)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        finals = [target_path(self.data_dir, name) for name in names]
        # A hidden staging folder inside the data dir: same file system (os.replace is
        # atomic), same base names (titles and types come out as for the final file).
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.data_dir))
        try:
            docs = []
            for incoming, name, final in zip(files, names, finals, strict=True):
                staged = staging / name
                self._copy(incoming.stream, staged, name)
                doc = load_document(staged)
                meta = dict(incoming.metadata)
                title = meta.get("title")
                docs.append(
                    replace(
                        doc,
                        document_id=document_id_for_path(final),
                        source=str(final),
                        title=str(title) if title else doc.title,
                        metadata=meta,
                    )
                )
            with self._writer() as writer:
                states = [writer.upsert(doc) for doc in docs]
                infos = {i.document_id: i for i in writer.store.documents()}
                report = writer.commit()
                for name, final in zip(names, finals, strict=True):
                    os.replace(staging / name, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        stored = tuple(
            StoredDocument(d.document_id, n, d.title, s, infos[d.document_id].n_passages)
            for d, n, s in zip(docs, names, states, strict=True)
        )
        return UploadResult(report=report, documents=stored)

    def remove(self, document_id: str) -> IngestReport:
        """Remove a document from the index, and its file when it was uploaded here.

        Raises:
            DocumentNotFoundError: no such document.
        """
        with self._writer() as writer:
            source = writer.indexed_sources().get(document_id)
            if source is None or not writer.remove(document_id):
                raise DocumentNotFoundError(f"no document with id {document_id!r}")
            report = writer.commit()
        path = Path(source)
        if path.parent == self.data_dir.resolve():
            path.unlink(missing_ok=True)
        return report
