"""Plain text and Markdown files."""

from __future__ import annotations

import re
from pathlib import Path

from index.errors import ExtractionError
from index.formats.extracted import Extracted, Heading

_ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_MAX_TITLE_CHARS = 200


def decode_utf8(path: Path, data: bytes) -> str:
    """Decode bytes as UTF-8 (a BOM is dropped), refusing binary content.

    Newlines are kept as they are so that offsets slice the file's own text.
    """
    if b"\x00" in data[:8192]:
        raise ExtractionError(str(path), "looks like a binary file (NUL bytes); not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            str(path), f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from exc


def _first_line_title(text: str) -> str | None:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped if len(stripped) <= _MAX_TITLE_CHARS else None
    return None


def extract_text(path: Path) -> Extracted:
    """A ``.txt`` file: the title is its first line when that line is short."""
    text = decode_utf8(path, path.read_bytes())
    return Extracted(text=text, title=_first_line_title(text))


def extract_markdown(path: Path) -> Extracted:
    """A ``.md`` file: ATX headings become section titles, the first one the title."""
    text = decode_utf8(path, path.read_bytes())
    headings = tuple(
        Heading(char_start=m.start(), text=m.group(2).strip()) for m in _ATX_HEADING.finditer(text)
    )
    title = headings[0].text if headings else _first_line_title(text)
    return Extracted(text=text, title=title, headings=headings)
