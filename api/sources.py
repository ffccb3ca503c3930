"""What the API shows of a document's ``source``: never the server's absolute path.

Shown relative to the configured source root or the upload directory when the file lies
under one, else as its file name; an operator may choose absolute paths instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath

from retriever.types import SearchResult


@dataclass(frozen=True)
class SourcePaths:
    """Turns stored (absolute) sources into the ones responses carry."""

    roots: tuple[PurePath, ...]
    expose: bool = False

    def show(self, source: str) -> str:
        if self.expose:
            return source
        path = PurePath(source)
        for root in self.roots:
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
        return path.name

    def result(self, result: SearchResult) -> SearchResult:
        """``result`` with every hit's citation source shown the public way."""
        if self.expose:
            return result
        hits = tuple(
            replace(h, citation=replace(h.citation, source=self.show(h.citation.source)))
            for h in result.hits
        )
        return replace(result, hits=hits)
