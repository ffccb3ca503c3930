"""Connections to Milvus and the calls docqa makes on one collection.

One client per URI and process (a Milvus Lite file may be opened by one client only);
calls into embedded Milvus Lite are serialised. Client errors become
:class:`~index.errors.VectorStoreError`, which the API answers with 503.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from index.errors import DocqaError, VectorStoreError

BATCH = 1000  # rows per upsert
MAX_LIMIT = 16_384  # Milvus' largest top-k and query page
_clients: dict[tuple[str, str], tuple[Any, AbstractContextManager[Any]]] = {}
_clients_lock = threading.Lock()


def is_local(uri: str) -> bool:
    """A Milvus Lite file (embedded, one process) rather than a server address."""
    return not re.match(r"^(https?|tcp|grpc|unix)://", uri)


def connect(uri: str, token: str) -> tuple[Any, AbstractContextManager[Any]]:
    """One client per URI and process; calls into embedded Milvus Lite are serialised."""
    with _clients_lock:
        found = _clients.get((uri, token))
        if found is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise DocqaError(
                    "Milvus support is not installed: pip install 'docqa[milvus]' "
                    "(or set DOCQA_VECTOR_STORE=faiss)"
                ) from exc
            try:
                client = MilvusClient(uri=uri, token=token)
            except Exception as exc:  # pymilvus raises several types for "cannot connect"
                raise VectorStoreError(f"cannot connect to Milvus at {uri}: {exc}") from exc
            lock: AbstractContextManager[Any] = (
                threading.RLock() if is_local(uri) else nullcontext()
            )
            found = _clients[(uri, token)] = (client, lock)
        return found


@contextmanager
def milvus_errors(what: str) -> Iterator[None]:
    """Milvus client errors become :class:`VectorStoreError` (the API answers 503)."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise VectorStoreError(f"Milvus {what} failed: {exc}") from exc


def disconnect(uri: str, token: str = "") -> None:
    """Close this process's client for ``uri`` (a Milvus Lite file is then free again)."""
    with _clients_lock:
        found = _clients.pop((uri, token), None)
    if found is not None:
        with found[1]:
            found[0].close()


class Collection:
    """One encoder's collection: the calls both readers and writers need."""

    def __init__(self, client: Any, lock: AbstractContextManager[Any], name: str) -> None:
        self.client = client
        self.lock = lock
        self.name = name

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(collection, ...)``, serialised for Milvus Lite, errors mapped."""
        with self.lock, milvus_errors(f"{method} on {self.name}"):
            return getattr(self.client, method)(self.name, *args, **kwargs)

    def count(self, expression: str) -> int:
        rows = self.call("query", filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def rows(self, expression: str, fields: list[str]) -> list[dict[str, Any]]:
        return list(self.call("query", filter=expression, output_fields=fields))

    def upsert(self, rows: list[dict[str, Any]], *, partial: bool = False) -> None:
        for start in range(0, len(rows), BATCH):
            part = rows[start : start + BATCH]
            if partial:
                self.call("upsert", part, partial_update=True)
            else:
                self.call("upsert", part)

    def set_gen_to(self, expression: str, value: int) -> int:
        """Set ``gen_to`` on every matching row (which must then stop matching)."""
        changed = 0
        while True:
            rows = self.call("query", filter=expression, output_fields=["pk"], limit=MAX_LIMIT)
            if not rows:
                return changed
            self.upsert([{"pk": int(r["pk"]), "gen_to": value} for r in rows], partial=True)
            changed += len(rows)

    def delete(self, expression: str) -> None:
        self.call("delete", filter=expression)
