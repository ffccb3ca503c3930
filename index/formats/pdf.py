"""PDF files: the text layer of each page, read with pypdf."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError

from index.errors import ExtractionError
from index.formats.extracted import Extracted, PageSpan

logger = logging.getLogger(__name__)

_MAX_TITLE_CHARS = 200
_WHITESPACE = re.compile(r"\s+")
# C0/C1 controls (other than tab, LF, CR) show up in broken text layers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Ligature glyphs become letters and soft hyphens vanish, so that "ﬁnd" and
# "mod\u00adel" match searches for "find" and "model".
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00ad": "",
    }
)
# pypdf's plain mode puts each text line on its own line and rarely leaves blank
# lines between paragraphs, so two layout cues also end a paragraph: a vertical gap
# well above the page's usual line spacing, and a line that stops well short of the
# page's usual line length (a last line, a heading).
_GAP_RATIO = 1.3
_SHORT_LINE_RATIO = 0.7
_MIN_LINES_FOR_RATIO = 3


def _typical_line_length(lines: list[str]) -> int:
    """A page's full-line length; 0 when there are too few lines to tell."""
    lengths = sorted(len(line) for line in lines if line)
    if len(lengths) < _MIN_LINES_FOR_RATIO:
        return 0
    # The 80th percentile rather than the maximum, so one long URL or table line
    # does not make every other line look short.
    return lengths[int(0.8 * (len(lengths) - 1))]


def _line_spacing(baselines: list[float]) -> float:
    """The page's usual distance between baselines of consecutive lines; 0 if unknown."""
    counts: dict[float, int] = {}
    for above, below in zip(baselines, baselines[1:], strict=False):
        # Rounded so that float noise does not split one spacing into several; gaps
        # upwards (a new column) say nothing about line spacing.
        if above - below > 0:
            gap = round(above - below, 1)
            counts[gap] = counts.get(gap, 0) + 1
    # The most common gap is the body text's leading; ties go to the tighter one.
    return min(counts, key=lambda gap: (-counts[gap], gap)) if counts else 0.0


def _join_lines(lines: list[str]) -> str:
    """Join the lines of one paragraph with spaces, keeping words hyphenated at a break."""
    joined = lines[0]
    for line in lines[1:]:
        # "well-" + "known" -> "well-known": the hyphen stays (it may be real), but no
        # space is added that would split one word into two tokens.
        glue = "" if joined[-2:-1].isalpha() and joined.endswith("-") and line[0].islower() else " "
        joined += glue + line
    return joined


def page_paragraphs(lines: Sequence[str], baselines: Sequence[float | None] = ()) -> list[str]:
    """Group one page's text lines into paragraphs whose lines are joined by spaces.

    Args:
        lines: The page's extracted text, one entry per line, in reading order.
        baselines: Each line's vertical position in PDF points (up is positive),
            None where unknown; empty when no line positions are known.

    Returns:
        Paragraphs with whitespace collapsed; none empty, none holding a blank line.
    """
    cleaned = [
        _WHITESPACE.sub(" ", _CONTROL.sub("", line.translate(_LIGATURES))).strip() for line in lines
    ]
    ys = list(baselines) if len(baselines) == len(lines) else [None] * len(lines)
    known = [y for line, y in zip(cleaned, ys, strict=True) if line and y is not None]
    spacing = _line_spacing(known)
    short = _SHORT_LINE_RATIO * _typical_line_length(cleaned)
    paragraphs: list[str] = []
    current: list[str] = []
    previous_y: float | None = None
    for line, y in zip(cleaned, ys, strict=True):
        wide_gap = (
            spacing > 0
            and y is not None
            and previous_y is not None
            and previous_y - y > _GAP_RATIO * spacing
        )
        if current and (not line or wide_gap):
            paragraphs.append(_join_lines(current))
            current = []
        if not line:
            continue
        current.append(line)
        previous_y = y if y is not None else previous_y
        if len(line) < short:
            paragraphs.append(_join_lines(current))
            current = []
    if current:
        paragraphs.append(_join_lines(current))
    return paragraphs


def _page_lines(page: PageObject) -> tuple[list[str], list[float | None]]:
    """A page's text lines and, where pypdf reports them, each line's baseline."""
    chunks: list[tuple[str, float | None]] = []

    def visit(text: Any, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        # Text-space origin mapped through the current transformation matrix.
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5] if str(text).strip() else None
        chunks.append((str(text), float(y) if y is not None else None))

    raw = page.extract_text(visitor_text=visit)
    if "".join(text for text, _ in chunks) != raw:
        # The visitor did not see exactly the text returned: trust the text alone.
        return raw.split("\n"), []
    lines: list[str] = []
    baselines: list[float | None] = []
    pieces: list[str] = []
    baseline: float | None = None
    for text, y in chunks:
        for index, piece in enumerate(text.split("\n")):
            if index:
                lines.append("".join(pieces))
                baselines.append(baseline)
                pieces, baseline = [], None
            pieces.append(piece)
            if baseline is None and piece.strip():
                baseline = y
    lines.append("".join(pieces))
    baselines.append(baseline)
    return lines, baselines


def _open(path: Path, data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        # The reader already tried the empty user password; this asks whether it worked.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ExtractionError(
                str(path), "encrypted PDF that needs a password; save an unprotected copy"
            )
        if len(reader.pages) == 0:
            raise ExtractionError(str(path), "PDF has no pages")
    except ExtractionError:
        raise
    except DependencyError as exc:
        raise ExtractionError(
            str(path), f"encrypted PDF needs an extra package ({exc}); pip install cryptography"
        ) from exc
    except Exception as exc:
        # pypdf signals malformed input with many exception types (its own, plus
        # ValueError, KeyError, struct errors...); any of them means a corrupt file.
        raise ExtractionError(str(path), f"not a valid PDF ({type(exc).__name__}: {exc})") from exc
    return reader


def _page_paragraphs(path: Path, reader: PdfReader) -> list[list[str]]:
    """Paragraphs of every page, in page order."""
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(page_paragraphs(*_page_lines(page)))
        except Exception as exc:
            # Same reason as in _open; a half-indexed document is worse than a clear error.
            raise ExtractionError(
                str(path), f"cannot read text of page {number} ({type(exc).__name__}: {exc})"
            ) from exc
    return pages


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata is not None else None
    except Exception:
        # A broken /Info dictionary should not cost the document its text.
        logger.debug("unreadable PDF metadata", exc_info=True)
        return None
    if not isinstance(title, str):
        return None
    return _WHITESPACE.sub(" ", title).strip() or None


def extract_pdf(path: Path) -> Extracted:
    """A ``.pdf`` file: each page's text, one :class:`PageSpan` per page with text.

    Pages are separated by a blank line, so no paragraph spans two pages. Pages
    without text get no span. The title is the metadata ``/Title``, else the first
    paragraph when it is short.

    Raises:
        ExtractionError: the file is not a readable PDF, needs a password, or has no
            text layer (a scan).
    """
    reader = _open(path, path.read_bytes())
    parts: list[str] = []
    pages: list[PageSpan] = []
    offset = 0
    for number, paragraphs in enumerate(_page_paragraphs(path, reader), start=1):
        if not paragraphs:
            continue
        if parts:
            offset += 2  # the "\n\n" separating this page from the previous one
        page_text = "\n\n".join(paragraphs)
        pages.append(PageSpan(number=number, char_start=offset, char_end=offset + len(page_text)))
        parts.append(page_text)
        offset += len(page_text)
    if not parts:
        raise ExtractionError(str(path), "no extractable text (scanned PDF?); run OCR first")
    text = "\n\n".join(parts)
    title = _metadata_title(reader)
    if title is None:
        first = text.split("\n\n", 1)[0]
        title = first if len(first) <= _MAX_TITLE_CHARS else None
    return Extracted(text=text, title=title, pages=tuple(pages))
