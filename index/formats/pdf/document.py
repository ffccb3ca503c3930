"""A PDF file's text, page spans, headings, passage spans and word boxes.

Body paragraphs come first, page by page, lines joined by newlines (so a word broken at
a line end reads ``comple-\\ntion``, undone for search by :mod:`index.formats.dehyphenate`).
Running headers and footers are kept after all pages, each with its own page span, so
that a paragraph running across a page break is one contiguous slice of the text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from index.errors import ExtractionError
from index.formats.extracted import Extracted, Heading, PageSpan, WordBox
from index.formats.pdf.furniture import find_furniture, is_contents_block, is_contents_page
from index.formats.pdf.layout import Block, document_style, page_blocks
from index.formats.pdf.lines import Line, page_lines
from index.formats.pdf.ocr import (
    DEFAULT_OCR,
    INSTALL_HINT,
    OcrLanguageMissingError,
    OcrOptions,
    OcrUnavailableError,
    ocr_lines,
)
from index.formats.pdf.passages import Unit, passage_spans

logger = logging.getLogger(__name__)

SEPARATOR = "\n\n"
_MAX_TITLE_CHARS = 200
_WHITESPACE = re.compile(r"\s+")


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    length: int = 0
    pages: list[PageSpan] = field(default_factory=list)
    boxes: list[WordBox] = field(default_factory=list)

    def add_block(self, lines: tuple[Line, ...], page: int) -> tuple[int, int]:
        if self.parts:
            self.parts.append(SEPARATOR)
            self.length += len(SEPARATOR)
        start = self.length
        for index, line in enumerate(lines):
            if index:
                self.parts.append("\n")
                self.length += 1
            for word in line.words:
                self.boxes.append(
                    WordBox(
                        self.length + word.start,
                        self.length + word.end,
                        page,
                        round(word.x0, 2),
                        round(word.y0, 2),
                        round(word.x1, 2),
                        round(word.y1, 2),
                    )
                )
            self.parts.append(line.text)
            self.length += len(line.text)
        return start, self.length

    def add_page_span(self, number: int, start: int) -> None:
        if self.length > start:
            # The separator before the page's first block is not part of the page.
            first = start + (len(SEPARATOR) if start else 0)
            self.pages.append(PageSpan(number, first, self.length))


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise ExtractionError(
                str(path), "encrypted PDF that needs a password; save an unprotected copy"
            ) from exc
        raise ExtractionError(str(path), f"not a valid PDF ({message})") from exc
    if len(document) == 0:
        document.close()
        raise ExtractionError(str(path), "PDF has no pages")
    return document


def _has_image(page: pdfium.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def _read_pages(
    path: Path, document: pdfium.PdfDocument, ocr: OcrOptions
) -> tuple[list[list[Line]], list[float]]:
    pages: list[list[Line]] = []
    heights: list[float] = []
    missing_ocr = 0
    for number in range(1, len(document) + 1):
        page = document[number - 1]
        try:
            lines = page_lines(page)
            if not lines and _has_image(page):
                try:
                    lines = ocr_lines(page, ocr)
                except OcrUnavailableError:
                    missing_ocr += 1
            heights.append(page.get_height())
        except OcrLanguageMissingError as exc:
            # A setting asks for what this machine lacks: the same for every scanned page.
            raise ExtractionError(str(path), str(exc)) from None
        except Exception as exc:
            # pdfium reports damage on a page with several exception types; a
            # half-indexed document is worse than a clear error.
            raise ExtractionError(
                str(path), f"cannot read text of page {number} ({type(exc).__name__}: {exc})"
            ) from exc
        finally:
            page.close()
        pages.append(lines)
    if missing_ocr and not any(pages):
        raise ExtractionError(
            str(path), f"scanned PDF ({missing_ocr} pages without a text layer); {INSTALL_HINT}"
        )
    if missing_ocr:
        logger.warning("%s: %d scanned pages skipped; %s", path, missing_ocr, INSTALL_HINT)
    return pages, heights


def _title(document: pdfium.PdfDocument, text: str) -> str | None:
    try:
        title = document.get_metadata_value("Title")
    except Exception:
        # A broken /Info dictionary should not cost the document its text.
        logger.debug("unreadable PDF metadata", exc_info=True)
        title = ""
    title = _WHITESPACE.sub(" ", title or "").strip()
    if title:
        return title
    first = text.split(SEPARATOR, 1)[0].replace("\n", " ")
    return first if first and len(first) <= _MAX_TITLE_CHARS else None


def extract_pdf(path: Path, ocr: OcrOptions = DEFAULT_OCR) -> Extracted:
    """A ``.pdf`` file, read from its text layer (or by OCR for scanned pages).

    Args:
        path: the file.
        ocr: languages and resolution for pages that have no text layer.

    Raises:
        ExtractionError: the file is not a readable PDF, needs a password, has no text
            at all, is scanned while the OCR extra is missing, or has a scanned page
            while Tesseract lacks a language of ``ocr``.
    """
    document = _open(path)
    try:
        pages, heights = _read_pages(path, document, ocr)
        built = _build(pages, heights)
        text = "".join(built.parts)
        if not text.strip():
            raise ExtractionError(str(path), "no extractable text (scanned PDF?); run OCR first")
        return Extracted(
            text=text,
            title=_title(document, text),
            pages=tuple(built.pages),
            headings=built.headings,
            passages=built.passages,
            boxes=tuple(built.boxes),
        )
    finally:
        document.close()


@dataclass
class _Built(_Builder):
    headings: tuple[Heading, ...] = ()
    passages: tuple[tuple[int, int], ...] = ()


def _build(pages: list[list[Line]], heights: list[float]) -> _Built:
    furniture = find_furniture(pages, heights)
    body_pages = [
        [line for i, line in enumerate(lines) if i not in skip]
        for lines, skip in zip(pages, furniture, strict=True)
    ]
    style = document_style(body_pages)
    built = _Built()
    units: list[Unit] = []
    headings: list[Heading] = []
    after_contents = False
    for number, lines in enumerate(body_pages, start=1):
        page_start = built.length
        contents = is_contents_page(lines, follows_contents=after_contents)
        blocks: list[Block] = page_blocks(lines, style)
        for block in blocks:
            start, end = built.add_block(block.lines, number)
            if contents or is_contents_block([line.text for line in block.lines]):
                continue
            if block.heading:
                headings.append(Heading(start, " ".join(line.text for line in block.lines)))
            units.append(Unit(start, end, block.heading, breaks_before=after_contents))
            after_contents = False
        after_contents = after_contents or contents
        built.add_page_span(number, page_start)
    for number, (lines, skip) in enumerate(zip(pages, furniture, strict=True), start=1):
        page_start = built.length
        for index in sorted(skip):
            built.add_block((lines[index],), number)
        built.add_page_span(number, page_start)
    text = "".join(built.parts)
    built.headings = tuple(headings)
    built.passages = tuple(passage_spans(text, units))
    return built
