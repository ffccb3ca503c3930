"""Split document text into paragraphs that keep exact character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A paragraph break is a line that is empty or holds only spaces/tabs; \r\n and \r
# line endings count, so files saved on Windows split the same way.
_BREAK = re.compile(r"(?:\r\n|\r|\n)[ \t\f\v]*(?:\r\n|\r|\n)(?:[ \t\f\v]*(?:\r\n|\r|\n))*")


@dataclass(frozen=True)
class ParagraphSpan:
    """One paragraph: ``document_text[char_start:char_end] == text``."""

    number: int
    char_start: int
    char_end: int
    text: str


def split_paragraphs(text: str) -> list[ParagraphSpan]:
    """Split on blank lines; trim surrounding whitespace; drop empty paragraphs.

    Offsets are code-point indices into ``text``, so slicing the original string
    (Chinese, curly quotes and all) gives back each paragraph exactly.
    """
    spans: list[ParagraphSpan] = []
    position = 0
    for match in [*_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[position:end]
        stripped = chunk.strip()
        if stripped:
            start = position + (len(chunk) - len(chunk.lstrip()))
            spans.append(
                ParagraphSpan(
                    number=len(spans),
                    char_start=start,
                    char_end=start + len(stripped),
                    text=stripped,
                )
            )
        if match:
            position = match.end()
    return spans
