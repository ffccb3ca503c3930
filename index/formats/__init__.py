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

#: A format's reader: the file and the OCR options (only PDFs have scanned pages).
Extractor = Callable[[Path, OcrOptions], Extracted]


def _without_options(read: Callable[[Path], Extracted]) -> Extractor:
    """A reader of a format that takes no options, as an :data:`Extractor`."""
    return lambda path, _ocr: read(path)


EXTRACTORS: dict[str, Extractor] = {
    ".txt": _without_options(extract_text),
    ".md": _without_options(extract_markdown),
    ".markdown": _without_options(extract_markdown),
    ".html": _without_options(extract_html),
    ".htm": _without_options(extract_html),
    ".pdf": extract_pdf,
    ".docx": _without_options(extract_docx),
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
        return extractor(path, ocr)
    except ExtractionError:
        raise
    except OSError as exc:
        raise ExtractionError(str(path), f"cannot read file: {exc.strerror or exc}") from exc


__all__ = ["EXTRACTORS", "extract", "supported_suffixes"]
