"""Documents → paragraphs with offsets → vectors (FAISS), BM25 and SQLite, in generations."""

from index.embedder import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from index.errors import (
    DocqaError,
    DocumentNotFoundError,
    ExtractionError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    UnsupportedFormatError,
)
from index.handle import IndexHandle
from index.models import DocumentInfo, DocumentInput, Passage
from index.snapshot import IndexSnapshot
from index.writer import IndexWriter, IngestReport

__all__ = [
    "DEFAULT_MODEL",
    "DocqaError",
    "DocumentInfo",
    "DocumentInput",
    "DocumentNotFoundError",
    "Embedder",
    "ExtractionError",
    "IndexHandle",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSnapshot",
    "IndexWriter",
    "IngestReport",
    "Passage",
    "SentenceTransformerEmbedder",
    "UnsupportedFormatError",
]
