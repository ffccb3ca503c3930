"""One rule for client-supplied text: no lone surrogates, no NUL, not invisible-only.

Lone surrogates cannot be encoded as UTF-8 (hashing, SQLite and encoders fail on them),
NUL ends strings in C libraries, and text of only zero-width characters looks empty to
a person while passing a "not blank" check.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

_SURROGATES = range(0xD800, 0xE000)


def text_problem(text: str) -> str | None:
    """Why ``text`` is not acceptable, or None when it is."""
    if "\x00" in text:
        return "contains a NUL character"
    if any(ord(c) in _SURROGATES for c in text):
        return "contains a lone surrogate (not valid Unicode text)"
    # Format characters (zero-width space, joiners, BOM, bidi marks) and spaces only.
    if text and all(c.isspace() or unicodedata.category(c) == "Cf" for c in text):
        return "holds only invisible (zero-width or space) characters"
    return None


def json_problems(value: object, max_depth: int) -> Iterator[str]:
    """Problems of a parsed JSON value: its nesting depth and every string in it.

    Iterative, so a value nested deeper than the interpreter's stack is reported too.
    """
    stack: list[tuple[object, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                yield f"{where or 'value'}: nested deeper than {max_depth} levels"
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                name = f"{where}.{_printable(key)}" if where else _printable(key)
                if isinstance(key, str) and (problem := text_problem(key)):
                    yield f"key {name}: {problem}"
                stack.append((child, depth + 1, name))
        elif isinstance(item, str) and (problem := text_problem(item)):
            yield f"{where or 'value'}: {problem}"


def _printable(key: object) -> str:
    # Error messages quote keys back: escape what cannot be encoded, and keep them short.
    return str(key)[:80].encode("utf-8", "backslashreplace").decode("utf-8")
