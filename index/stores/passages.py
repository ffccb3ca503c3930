"""SQLite store of documents and passages for one index generation."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from index.errors import DocumentNotFoundError
from index.models import DocumentInfo, DocumentInput, Passage, WordBoxRow

STORE_NAME = "store.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    pages TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    vector_id INTEGER PRIMARY KEY,
    passage_id TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL REFERENCES documents(document_id),
    paragraph INTEGER NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    section TEXT,
    page INTEGER
);
CREATE INDEX IF NOT EXISTS passages_by_document ON passages(document_id);
CREATE TABLE IF NOT EXISTS word_boxes (
    document_id TEXT NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    page INTEGER NOT NULL,
    x0 REAL NOT NULL,
    y0 REAL NOT NULL,
    x1 REAL NOT NULL,
    y1 REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS word_boxes_by_offset ON word_boxes(document_id, char_start);
"""

_PASSAGE_COLUMNS = (
    "p.vector_id, p.passage_id, p.document_id, p.paragraph, p.char_start, p.char_end, "
    "p.text, d.title, d.source, p.section, p.page"
)


_DOCUMENT_COLUMNS = (
    "d.document_id, d.title, d.source, d.content_hash, COUNT(p.vector_id), d.metadata"
)


def _document(row: Sequence[Any]) -> DocumentInfo:
    return DocumentInfo(
        str(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]), json.loads(row[5])
    )


def _passage(row: Sequence[object]) -> Passage:
    return Passage(*row)  # type: ignore[arg-type]


class PassageStore:
    """Documents and passages in SQLite; a generation's store is written once, then read."""

    def __init__(self, path: Path, *, read_only: bool) -> None:
        self.path = path
        if read_only:
            # immutable=1: a committed generation never changes, so SQLite may skip locking.
            uri = f"file:{path}?mode=ro&immutable=1"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.executescript(_SCHEMA)
            self._conn.execute("BEGIN")
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._conn.close()
                self._closed = True

    # -- writing (only on a generation being built) ---------------------------------

    def commit(self) -> None:
        with self._lock:
            self._conn.execute("COMMIT")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def next_vector_id(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'next_vector_id'").fetchone()
        top = self._conn.execute("SELECT COALESCE(MAX(vector_id), -1) FROM passages").fetchone()
        return max(int(row[0]) if row else 0, int(top[0]) + 1)

    def set_next_vector_id(self, value: int) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('next_vector_id', ?)", (str(value),)
        )

    def put_document(self, doc: DocumentInput, doc_hash: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                doc.document_id,
                doc.title,
                doc.source,
                doc_hash,
                doc.text,
                json.dumps(doc.metadata, ensure_ascii=False, sort_keys=True, default=str),
                json.dumps([list(p) for p in doc.pages]),
            ),
        )
        self._conn.execute("DELETE FROM word_boxes WHERE document_id = ?", (doc.document_id,))
        self._conn.executemany(
            "INSERT INTO word_boxes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(doc.document_id, *box) for box in doc.boxes],
        )

    def put_passage(self, passage: Passage, content_hash: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                passage.vector_id,
                passage.passage_id,
                passage.document_id,
                passage.paragraph,
                passage.char_start,
                passage.char_end,
                content_hash,
                passage.text,
                passage.section,
                passage.page,
            ),
        )

    def delete_document(self, document_id: str) -> list[int]:
        """Remove a document and its passages; return the removed vector ids."""
        ids = [
            int(r[0])
            for r in self._conn.execute(
                "SELECT vector_id FROM passages WHERE document_id = ?", (document_id,)
            )
        ]
        self._conn.execute("DELETE FROM passages WHERE document_id = ?", (document_id,))
        self._conn.execute("DELETE FROM documents WHERE document_id = ?", (document_id,))
        self._conn.execute("DELETE FROM word_boxes WHERE document_id = ?", (document_id,))
        return ids

    # -- reading ---------------------------------------------------------------------

    def passage_hashes(self, document_id: str) -> dict[str, int]:
        """``content_hash -> vector_id`` of a document's passages (for vector reuse)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT content_hash, vector_id FROM passages WHERE document_id = ?",
                (document_id,),
            ).fetchall()
        return {str(h): int(v) for h, v in rows}

    def document_hash(self, document_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT content_hash FROM documents WHERE document_id = ?", (document_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def count_passages(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    def count_documents(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def passages_by_vector_id(self, vector_ids: Sequence[int]) -> dict[int, Passage]:
        if not vector_ids:
            return {}
        marks = ",".join("?" * len(vector_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_PASSAGE_COLUMNS} FROM passages p JOIN documents d "
                f"USING (document_id) WHERE p.vector_id IN ({marks})",
                [int(v) for v in vector_ids],
            ).fetchall()
        return {int(row[0]): _passage(row) for row in rows}

    def iter_passages(self) -> Iterator[Passage]:
        """Every passage in vector-id order (used to rebuild derived indexes)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_PASSAGE_COLUMNS} FROM passages p JOIN documents d "
                "USING (document_id) ORDER BY p.vector_id"
            ).fetchall()
        return (_passage(row) for row in rows)

    def passages_around(self, document_id: str, paragraph: int, radius: int) -> list[Passage]:
        """The document's passages whose paragraph is within ``radius`` of ``paragraph``."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_PASSAGE_COLUMNS} FROM passages p JOIN documents d "
                "USING (document_id) WHERE p.document_id = ? AND p.paragraph BETWEEN ? AND ? "
                "ORDER BY p.char_start",
                (document_id, paragraph - radius, paragraph + radius),
            ).fetchall()
        return [_passage(row) for row in rows]

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents d "
                "LEFT JOIN passages p USING (document_id) "
                "GROUP BY d.document_id ORDER BY d.document_id"
            ).fetchall()
        return [_document(r) for r in rows]

    def document(self, document_id: str) -> DocumentInfo:
        """One document's listing entry, looked up by its id (no scan of the others).

        Raises:
            DocumentNotFoundError: no document has this id.
        """
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents d "
                "LEFT JOIN passages p USING (document_id) "
                "WHERE d.document_id = ? GROUP BY d.document_id",
                (document_id,),
            ).fetchone()
        if row is None:
            raise DocumentNotFoundError(f"no document with id {document_id!r}")
        return _document(row)

    def vector_ids_where(self, matches: Callable[[str, dict[str, object]], bool]) -> list[int]:
        """Vector ids of the passages of every document for which ``matches`` holds."""
        with self._lock:
            docs = self._conn.execute("SELECT document_id, metadata FROM documents").fetchall()
            chosen = [str(d) for d, meta in docs if matches(str(d), json.loads(meta))]
            ids: list[int] = []
            for start in range(0, len(chosen), 500):
                part = chosen[start : start + 500]
                marks = ",".join("?" * len(part))
                ids.extend(
                    int(r[0])
                    for r in self._conn.execute(
                        f"SELECT vector_id FROM passages WHERE document_id IN ({marks})", part
                    )
                )
        return ids

    def word_boxes(self, document_id: str, char_start: int, char_end: int) -> list[WordBoxRow]:
        """Boxes ``(char_start, char_end, page, x0, y0, x1, y1)`` of words overlapping a span.

        Empty for documents without page geometry (not PDFs, or indexed before boxes).
        """
        with self._lock:
            try:
                rows = self._conn.execute(
                    "SELECT char_start, char_end, page, x0, y0, x1, y1 FROM word_boxes "
                    "WHERE document_id = ? AND char_start < ? AND char_end > ? "
                    "ORDER BY char_start",
                    (document_id, char_end, char_start),
                ).fetchall()
            except sqlite3.OperationalError:
                return []  # a store written before word boxes existed
        return [
            (int(a), int(b), int(p), float(x0), float(y0), float(x1), float(y1))
            for a, b, p, x0, y0, x1, y1 in rows
        ]

    def document_pages(self, document_id: str) -> list[tuple[int, int, int]]:
        """``(page, char_start, char_end)`` spans of a document's text; empty if unknown."""
        with self._lock:
            row = self._conn.execute(
                "SELECT pages FROM documents WHERE document_id = ?", (document_id,)
            ).fetchone()
        if row is None:
            raise DocumentNotFoundError(f"no document with id {document_id!r}")
        return [(int(n), int(s), int(e)) for n, s, e in json.loads(row[0])]

    def document_text(self, document_id: str) -> str:
        with self._lock:
            row = self._conn.execute(
                "SELECT text FROM documents WHERE document_id = ?", (document_id,)
            ).fetchone()
        if row is None:
            raise DocumentNotFoundError(f"no document with id {document_id!r}")
        return str(row[0])
