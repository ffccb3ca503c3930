"""Store uploaded files in the data directory and index them through the single writer.

File names come from clients, so they are reduced to a safe base name and the final
path is checked to lie directly inside the data directory before anything is written.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from api.upload_journal import STAGING_PREFIX, JournalEntry, alive, move_into_place, recover, settle
from index.encoders.base import Encoder
from index.errors import (
    DocqaError,
    DocumentNotFoundError,
    ExtractionError,
    IndexLockedError,
    IngestCancelledError,
    UnsupportedFormatError,
)
from index.formats import supported_suffixes
from index.formats.sandbox import ExtractLimits
from index.formats.textcheck import text_problem
from index.ids import document_id_for_path
from index.lifecycle.ingest import MAX_NAME_BYTES, load_document
from index.lifecycle.writer import IndexWriter, IngestReport
from index.models import DocumentInput
from index.passages.bounds import PassageLimits
from index.stores.base import AnnPolicy, VectorStore

_CHUNK = 1 << 16
_DRIVE = re.compile(r"^[A-Za-z]:")
Cancelled = Callable[[], bool]


class UploadError(DocqaError):
    """An upload that is refused as a whole; nothing of it was written or indexed."""


class UnsafeFilenameError(UploadError):
    """The file name is empty, absolute, hidden or climbs out of the data directory."""


class UploadTooLargeError(UploadError):
    """A file (or the number of files) exceeds the configured limit."""


class UploadBudgetError(UploadError):
    """Embedding the upload took longer than its time budget; nothing was committed."""


def _never() -> bool:
    return False


def _refused(name: str, exc: ExtractionError) -> ExtractionError:
    """``exc`` naming the uploaded file (never the server's staging path), and saying
    that the upload as a whole was not indexed (the other files of it neither)."""
    return ExtractionError(name, f"{exc.reason}; nothing from this upload was indexed")


def safe_filename(raw: str) -> str:
    """The base name to store an upload under.

    Raises:
        UnsafeFilenameError: ``raw`` is empty, absolute, has a ``..`` component, control
            characters, or a hidden or over-long base name.
    """
    if not raw or not raw.strip():
        raise UnsafeFilenameError("file name is empty")
    if problem := text_problem(raw):
        raise UnsafeFilenameError(f"file name {ascii(raw)[:120]} {problem}")
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
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        # The store writes NAME.meta.json beside it, which must fit in 255 bytes too.
        raise UnsafeFilenameError(
            f"file name is longer than {MAX_NAME_BYTES} bytes (255 with the .meta.json sidecar)"
        )
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
        sentence_pooling: bool = True,
        extract_limits: ExtractLimits | None = None,
        passage_limits: PassageLimits | None = None,
        upload_timeout_s: float = 30.0,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self._ann = ann
        self._sentence_vectors = sentence_vectors
        self._sentence_pooling = sentence_pooling
        self._vector_store = vector_store
        self._index_dir = index_dir
        self._encoders = encoders
        self._batch_size = batch_size
        self._max_file_bytes = max_file_bytes
        self._wait_seconds = wait_seconds
        # Writers of this process queue here; the index's file lock only guards
        # against other processes (and would make a second writer here fail at once).
        self._lock = threading.Lock()
        self._extract_limits = extract_limits or ExtractLimits()
        self._passage_limits = passage_limits or PassageLimits()
        self._upload_timeout_s = upload_timeout_s
        # Uploads a kill -9 interrupted: finish or undo their file moves, drop staging.
        recover(self.data_dir, index_dir)

    @contextmanager
    def _writer(self, cancelled: Cancelled) -> Iterator[IndexWriter]:
        deadline = time.monotonic() + self._wait_seconds
        # Wait in short steps, so a cancelled upload stops waiting at once.
        while not self._lock.acquire(timeout=0.1):
            if cancelled():
                raise IngestCancelledError("the upload was cancelled")
            if time.monotonic() > deadline:
                raise IndexLockedError("another upload is being indexed; try again shortly")
        try:
            with ExitStack() as stack:
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
                                sentence_pooling=self._sentence_pooling,
                                limits=self._passage_limits,
                                # One batch per encoder call: a cancelled upload (client
                                # gone, SIGTERM) stops after at most one batch.
                                embed_chunk=self._batch_size,
                            )
                        )
                        break
                    except IndexLockedError:
                        # Another process (e.g. `docqa index`) is committing: wait a little.
                        if time.monotonic() > deadline or cancelled():
                            raise
                        time.sleep(0.1)
                yield writer
        finally:
            self._lock.release()

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

    def add(self, files: Sequence[IncomingFile], cancelled: Cancelled = _never) -> UploadResult:
        """Store and index ``files`` in one commit; all or nothing.

        ``cancelled`` is polled while the upload works (the client left, the server is
        stopping); once it says True the upload stops, commits nothing and releases the
        writer.

        Raises:
            UnsafeFilenameError, UnsupportedFormatError, UploadTooLargeError, UploadError:
                the upload was refused before anything was indexed.
            ExtractionError: a file could not be read as its type, or went over a limit.
            UploadBudgetError: reading and embedding took longer than the upload's time
                budget (``upload_timeout_s`` per file, extraction and embedding together;
                waiting for another upload's writer does not count).
            IngestCancelledError: ``cancelled()`` turned true.
            IndexLockedError: another process kept the index locked too long.
        """
        names = self._check(files)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        finals = [target_path(self.data_dir, name) for name in names]
        # A hidden staging folder inside the data dir: same file system (os.replace is
        # atomic), same base names (titles and types come out as for the final file).
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.data_dir))
        with alive(staging):
            try:
                started = time.monotonic()
                docs = [
                    self._stage(incoming, staging / name, final, cancelled)
                    for incoming, name, final in zip(files, names, finals, strict=True)
                ]
                spent = time.monotonic() - started
                report, states, infos = self._index(docs, names, staging, cancelled, spent)
            finally:
                settle(staging, self.data_dir, self._index_dir)
        stored = tuple(
            StoredDocument(d.document_id, n, d.title, s, infos[d.document_id])
            for d, n, s in zip(docs, names, states, strict=True)
        )
        return UploadResult(report=report, documents=stored)

    def _stage(
        self, incoming: IncomingFile, staged: Path, final: Path, cancelled: Cancelled
    ) -> DocumentInput:
        self._copy(incoming.stream, staged, staged.name)
        try:
            doc = load_document(staged, self._extract_limits, cancelled)
        except ExtractionError as exc:  # name the file, never the server's staging path
            raise _refused(staged.name, exc) from None
        meta = dict(incoming.metadata)
        title = meta.get("title")
        return replace(
            doc,
            document_id=document_id_for_path(final),
            source=str(final),
            title=str(title) if title else doc.title,
            metadata=meta,
        )

    def _index(
        self,
        docs: list[DocumentInput],
        names: list[str],
        staging: Path,
        cancelled: Cancelled,
        spent: float,
    ) -> tuple[IngestReport, list[str], dict[str, int]]:
        """Embed and commit ``docs``; ``spent``: seconds their extraction already took of
        the upload's budget (the wait for the writer is not counted)."""
        budget = self._upload_timeout_s * len(docs)
        with self._writer(cancelled) as writer:
            # The budget runs from here (the writer is ours), less what reading took.
            deadline = time.monotonic() + budget - spent

            def check() -> None:
                if cancelled():
                    raise IngestCancelledError("the upload was cancelled; nothing was indexed")
                if time.monotonic() > deadline:
                    shown = ", ".join(names[:3]) + (
                        f" and {len(names) - 3} more" if len(names) > 3 else ""
                    )
                    raise UploadBudgetError(
                        f"{shown}: reading and embedding took longer than the budget of "
                        f"{self._upload_timeout_s:g} s per file (DOCQA_UPLOAD_TIMEOUT_S); "
                        "nothing was indexed"
                    )

            states = []
            for doc, name in zip(docs, names, strict=True):
                try:
                    states.append(writer.upsert(doc))
                except ExtractionError as exc:
                    raise _refused(name, exc) from None
            # Only the uploaded documents: listing them all would grow with the index.
            infos = {d.document_id: writer.store.document(d.document_id).n_passages for d in docs}
            entries = [
                JournalEntry(
                    name, doc.document_id, writer.store.document_hash(doc.document_id) or ""
                )
                for doc, name in zip(docs, names, strict=True)
            ]
            report = writer.commit(
                check=check,
                before_publish=lambda: move_into_place(staging, self.data_dir, entries),
            )
        return report, states, infos

    def remove(self, document_id: str) -> IngestReport:
        """Remove a document from the index, and its file when it was uploaded here.

        Raises:
            DocumentNotFoundError: no such document.
        """
        with self._writer(_never) as writer:
            source = writer.indexed_sources().get(document_id)
            if source is None or not writer.remove(document_id):
                raise DocumentNotFoundError(f"no document with id {document_id!r}")
            report = writer.commit()
        path = Path(source)
        if path.parent == self.data_dir.resolve():
            path.unlink(missing_ok=True)
        return report
