"""Question → ranked passages with citations."""

from retriever.errors import QueryError
from retriever.searcher import MAX_TOP_K, Retriever, SearchOptions
from retriever.types import Citation, Hit, Mode, SearchResult, Span

__all__ = [
    "MAX_TOP_K",
    "Citation",
    "Hit",
    "Mode",
    "QueryError",
    "Retriever",
    "SearchOptions",
    "SearchResult",
    "Span",
]
