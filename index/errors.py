"""Exception types raised by the indexing layer (routes and the CLI map them)."""

from __future__ import annotations


class DocqaError(Exception):
    """Base class for every error docqa raises on purpose."""


class ExtractionError(DocqaError):
    """A file could not be read or parsed into text."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnsupportedFormatError(ExtractionError):
    """The file's extension is not one docqa can index."""


class IndexNotFoundError(DocqaError):
    """No committed index exists in the directory."""


class IndexMismatchError(DocqaError):
    """The index on disk does not match the model or is internally inconsistent."""


class IndexLockedError(DocqaError):
    """Another process is writing to the index."""


class DocumentNotFoundError(DocqaError):
    """No document with the given id is in the index."""


class VectorStoreError(DocqaError):
    """The vector store (a Milvus server) failed or cannot be reached."""


class IngestCancelledError(DocqaError):
    """An ingest was stopped on purpose (client gone, server shutting down); nothing committed."""
