"""Turn a file into :class:`~index.formats.extracted.Extracted` text, chosen by its extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index.errors import ExtractionError, UnsupportedFormatError
from index.formats.docx import extract_docx
from index.formats.extracted import Extracted
from index.formats.html import extract_html
from index.formats.pdf import extract_pdf
from index.formats.pdf.ocr import DEFAULT_OCR, OcrOptions
from index.formats.text import extract_markdown, extract_text

Extractor = Callable[[Path], Extracted]

EXTRACTORS: dict[str, Extractor] = {
    ".txt": extract_text,
    ".md": extract_markdown,
    ".markdown": extract_markdown,
    ".html": extract_html,
    ".htm": extract_html,
    ".pdf": extract_pdf,
    ".docx": extract_docx,
}


def supported_suffixes() -> tuple[str, ...]:
    """File extensions docqa can index, lower case with the dot."""
    return tuple(sorted(EXTRACTORS))


def extract(path: Path, ocr: OcrOptions = DEFAULT_OCR) -> Extracted:
    """Extract the text of ``path``.

    Args:
        path: the file; its extension chooses the reader.
        ocr: how a PDF's scanned pages are read (default: English at 300 dpi); other
            formats have no scanned pages and ignore it.

    Raises:
        UnsupportedFormatError: the extension is not supported.
        ExtractionError: the file exists but cannot be read or parsed.
    """
    extractor = EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        raise UnsupportedFormatError(
            str(path),
            f"unsupported file type {path.suffix or '(none)'!r}; "
            f"supported: {', '.join(supported_suffixes())}",
        )
    try:
        if extractor is extract_pdf:  # the one format with options
            return extract_pdf(path, ocr)
        return extractor(path)
    except ExtractionError:
        raise
    except OSError as exc:
        raise ExtractionError(str(path), f"cannot read file: {exc.strerror or exc}") from exc


__all__ = ["EXTRACTORS", "extract", "supported_suffixes"]
