"""How a citation's ``source`` is shown over HTTP: never the server's file layout by default.

The index keeps each document's absolute path (re-indexing needs it); an HTTP client
needs only something to recognise the file by.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath, PureWindowsPath

SourceView = Callable[[str], str]


def public_source(source: str, root: str | None = None, absolute: bool = False) -> str:
    """``source`` as clients see it.

    Args:
        source: The stored source: a local path, or anything else (a URL) kept as it is.
        root: The folder documents were indexed from; paths under it are shown relative.
        absolute: The operator chose to show absolute paths.

    Returns:
        The path relative to ``root``, else the file name; non-paths unchanged.
    """
    if absolute:
        return source
    for flavour in (PurePosixPath, PureWindowsPath):
        path = flavour(source)
        if path.is_absolute():
            if root is not None:
                base = flavour(root)
                if path.is_relative_to(base) and path != base:
                    return path.relative_to(base).as_posix()
            return path.name
    return source


def source_view(root: str | None, absolute: bool) -> SourceView:
    """The one function every HTTP response applies to citation sources."""
    return lambda source: public_source(source, root, absolute)
