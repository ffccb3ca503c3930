"""Metadata filters as Milvus boolean expressions over the scalar fields of each row.

Each row carries its document's ``document_id``, ``tags`` (a JSON list), ``date`` (ISO
text, ``""`` when absent) and the whole ``metadata`` (JSON). The mapping keeps the exact
meaning of :meth:`MetadataFilter.matches`:

=====================  ==========================================================
``document_ids``       ``document_id in ["a", "b"]``
``tags``               ``json_contains_any(tags, ["x", "y"])``
``date_from``          ``date >= "2024-05"`` (a prefix bound, as in ``matches``)
``date_to``            ``date != "" and (date <= "2024-06" or date like "2024-06%")``
``equals``             ``metadata["author"] == "g"`` (strings, numbers, booleans)
=====================  ==========================================================

A condition that cannot be written safely (a list value, a quote in a string) makes
:func:`to_expression` return None; the caller then restricts by vector ids instead.
"""

from __future__ import annotations

import json

from index.filters import MetadataFilter

_UNSAFE = ('"', "\\", "\n")
_LIKE_SPECIAL = ("%", "_")


def _literal(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str) and not any(c in value for c in _UNSAFE):
        return f'"{value}"'
    return None


def _strings(values: tuple[str, ...]) -> str | None:
    found = [_literal(v) for v in values]
    if any(f is None for f in found):
        return None
    return "[" + ", ".join(str(f) for f in found) + "]"


def to_expression(filters: MetadataFilter) -> str | None:
    """The Milvus expression for ``filters``; None when a condition cannot be expressed."""
    parts: list[str | None] = []
    if filters.document_ids:
        ids = _strings(filters.document_ids)
        parts.append(None if ids is None else f"document_id in {ids}")
    if filters.tags:
        tags = _strings(filters.tags)
        parts.append(None if tags is None else f"json_contains_any(tags, {tags})")
    if filters.date_from:
        low = _literal(filters.date_from)
        parts.append(None if low is None else f"date >= {low}")
    if filters.date_to:
        high = _literal(filters.date_to)
        if any(c in filters.date_to for c in _LIKE_SPECIAL):
            high = None
        parts.append(
            None
            if high is None
            else f'(date != "" and (date <= {high} or date like "{filters.date_to}%"))'
        )
    for key, value in filters.equals.items():
        name, literal = _literal(key), _literal(value)
        parts.append(None if name is None or literal is None else f"metadata[{name}] == {literal}")
    if any(p is None for p in parts):
        return None
    return " and ".join(f"({p})" for p in parts if p)
