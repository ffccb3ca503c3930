"""A PDF page as a PNG image, with highlight boxes drawn on it (pypdfium2 + Pillow)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pypdfium2 as pdfium
from PIL import ImageDraw

from index.errors import DocumentNotFoundError, ExtractionError
from index.formats.pdf.boxes import PageBox

_HIGHLIGHT = (255, 200, 0, 90)
_OUTLINE = (230, 120, 0, 255)


class PageNotFoundError(DocumentNotFoundError):
    """The document has no such page, or its file is gone."""


def page_count(path: Path) -> int:
    """Pages of the PDF at ``path``."""
    document = _open(path)
    try:
        return len(document)
    finally:
        document.close()


def _open(path: Path) -> pdfium.PdfDocument:
    if not path.is_file():
        raise PageNotFoundError(f"{path}: the document's file is no longer there")
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionError(str(path), f"not a readable PDF ({exc})") from exc


def render_page_png(path: Path, number: int, width: int, boxes: Sequence[PageBox] = ()) -> bytes:
    """Page ``number`` (1-based) of ``path`` as PNG bytes, ``width`` pixels wide.

    Boxes on this page are filled translucent and outlined; boxes of other pages are
    ignored. The caller bounds ``width``.

    Raises:
        PageNotFoundError: no such page, or the file is gone.
    """
    document = _open(path)
    try:
        if not 1 <= number <= len(document):
            raise PageNotFoundError(f"page {number} out of range 1..{len(document)}")
        page = document[number - 1]
        try:
            page_width, page_height = page.get_size()
            scale = width / page_width
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil().convert("RGBA")
            bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    overlay = ImageDraw.Draw(image, "RGBA")
    for box in boxes:
        if box.page != number:
            continue
        # PDF y grows upwards from the bottom edge; image rows grow downwards.
        rect = (
            box.x0 * scale,
            (page_height - box.y1) * scale,
            box.x1 * scale,
            (page_height - box.y0) * scale,
        )
        overlay.rectangle(rect, fill=_HIGHLIGHT, outline=_OUTLINE, width=2)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()
