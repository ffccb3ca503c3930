"""The text that is embedded and BM25-indexed: words broken at line ends joined again.

Stored passage text keeps the hyphen and the line break (``comple-\\ntion``) so that
citation offsets slice the document text exactly; only the search text changes.
"""

from __future__ import annotations

import re

# A lowercase letter, a hyphen ending the line, a lowercase letter opening the next.
_BROKEN = re.compile(r"(\w*[^\W\d_])-\n([^\W\d_A-Z]\w*)")


def search_text(text: str) -> str:
    """``text`` with line-end hyphenation undone, for the encoders and BM25.

    A compound that the same text also writes with its hyphen (``command-line``) keeps
    the hyphen; any other word broken at a line end is joined (``comple-\\ntion`` ->
    ``completion``), since typesetters hyphenate far more often than compounds break.
    """
    if "-\n" not in text:
        return text

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        if f"{left}-{right}" in text:
            return f"{left}-{right}"
        return left + right

    return _BROKEN.sub(join, text)
