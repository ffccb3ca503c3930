"""Input types of the request models: the one text rule, and numbers that are numbers.

The text rule (:mod:`index.formats.textcheck`) is also stated in the served schema as a
``pattern``, so clients and generated tests know it; the server checks it in Python.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from index.formats.textcheck import text_problem


@cache  # built when a schema is first generated, not at import: it scans every code point
def _invisible_class() -> str:
    """A regex class of what the text rule calls invisible: spaces and format characters."""
    points = [
        c
        for c in range(sys.maxunicode + 1)
        if not 0xD800 <= c < 0xE000 and (chr(c).isspace() or unicodedata.category(chr(c)) == "Cf")
    ]
    ranges: list[tuple[int, int]] = []
    for point in points:
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    parts = (
        f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges if b < 0x10000
    )
    return (
        "["
        + "".join(parts)
        + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges if b >= 0x10000)
        + "]"
    )


def text_pattern() -> str:
    """Any text without NUL that is empty or holds a visible character."""
    return f"^(?!{_invisible_class()}+$)[^\\u0000]*$"


def required_text_pattern() -> str:
    """The same, but not empty."""
    return f"^(?!{_invisible_class()}*$)[^\\u0000]*$"


class _SchemaPattern:
    """Adds ``pattern`` to a field's JSON schema only (pydantic's regex engine has no
    lookahead; the Python check is the validator)."""

    def __init__(self, pattern: Callable[[], str]) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern()
        return schema


def _checked(text: str) -> str:
    if problem := text_problem(text):
        raise ValueError(problem)
    return text


def _required(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    return _checked(text)


def _number_only(value: Any) -> Any:
    # JSON's 5 and 5.0 are both integers to JSON Schema; "5" and true are not.
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON number, not a string or boolean")
    return value


CleanText = Annotated[str, AfterValidator(_checked), _SchemaPattern(text_pattern)]
RequiredText = Annotated[str, AfterValidator(_required), _SchemaPattern(required_text_pattern)]
WholeNumber = Annotated[int, BeforeValidator(_number_only)]
