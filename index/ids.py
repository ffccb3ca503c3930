"""Stable identifiers for documents and passages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_SLUG = re.compile(r"[^a-z0-9]+")


def document_id_for_path(path: Path) -> str:
    """A readable id that stays the same for the same absolute file path.

    ``report-2024.txt`` under ``/data`` becomes ``report-2024-txt-1a2b3c4d``: the slug
    keeps it recognisable, the hash of the resolved path keeps it unique.
    """
    resolved = str(path.expanduser().resolve())
    slug = _SLUG.sub("-", path.name.lower()).strip("-")[:48] or "doc"
    digest = hashlib.sha1(resolved.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def passage_id(document_id: str, paragraph: int) -> str:
    """Passage ids are the document id plus the paragraph number."""
    return f"{document_id}#{paragraph}"


def content_hash(text: str) -> str:
    """Hash of a paragraph's text: equal text, equal hash, so its vector can be reused."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
