"""Metadata filters applied at query time (before ranking, so k hits still come back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetadataFilter:
    """Keep documents that match every given condition.

    ``tags``: the document has at least one of them (its ``tags`` metadata is a list or a
    comma-separated string). ``date_from``/``date_to``: inclusive bounds on its ``date``
    metadata as ISO text (``2024-05-01``), compared as strings. ``document_ids``: one of
    these ids. ``equals``: other metadata fields that must equal the given value.
    """

    tags: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    document_ids: tuple[str, ...] = ()
    equals: Mapping[str, object] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.tags or self.date_from or self.date_to or self.document_ids or self.equals)

    def matches(self, document_id: str, metadata: Mapping[str, object]) -> bool:
        if self.document_ids and document_id not in self.document_ids:
            return False
        if self.tags and not set(self.tags).intersection(document_tags(metadata)):
            return False
        date = metadata.get("date")
        if self.date_from or self.date_to:
            if not isinstance(date, str) or not date:
                return False
            if self.date_from and date[: len(self.date_from)] < self.date_from:
                return False
            if self.date_to and date[: len(self.date_to)] > self.date_to:
                return False
        return all(metadata.get(key) == value for key, value in self.equals.items())


def document_tags(metadata: Mapping[str, object]) -> set[str]:
    """A document's tags, from a list or a comma-separated string."""
    raw = metadata.get("tags")
    if isinstance(raw, str):
        return {t.strip() for t in raw.split(",") if t.strip()}
    if isinstance(raw, list | tuple):
        return {str(t).strip() for t in raw}
    return set()
