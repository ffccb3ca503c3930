"""Errors for bad questions (the API maps them to 422)."""

from __future__ import annotations

from index.errors import DocqaError


class QueryError(DocqaError):
    """The question or its options cannot be answered as given."""


def too_long_query(size: int, limit: int) -> str:
    """What a question over ``DOCQA_MAX_QUERY_CHARS`` is told, wherever it is caught."""
    return f"query is {size} characters; the limit is {limit}"


class WeightsMismatchError(RuntimeError):
    """The shipped answer weights do not fit the installed base model."""
