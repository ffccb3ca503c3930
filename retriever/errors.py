"""Errors for bad questions (the API maps them to 422)."""

from __future__ import annotations

from index.errors import DocqaError


class QueryError(DocqaError):
    """The question or its options cannot be answered as given."""


class WeightsMismatchError(RuntimeError):
    """The shipped answer weights do not fit the installed base model."""
