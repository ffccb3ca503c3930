"""Text lines of a scanned page, read by Tesseract (the optional ``ocr`` extra).

pytesseract drives Debian's ``tesseract-ocr`` binary; its word boxes come back in
pixels and are turned into PDF points so that citations can be drawn on the page.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from statistics import median

import pypdfium2 as pdfium

from index.formats.pdf.lines import Line, Word

INSTALL_HINT = (
    "install the OCR extra: apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-chi-sim && pip install 'docqa[ocr]'"
)
# Words Tesseract is less sure of than this (0-100) are dropped as noise.
_MIN_CONFIDENCE = 30.0


class OcrUnavailableError(RuntimeError):
    """Tesseract or pytesseract is not installed."""


def ocr_available() -> bool:
    """Whether scanned pages can be read: pytesseract importable and tesseract on PATH."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def ocr_lines(page: pdfium.PdfPage, *, dpi: int, languages: str) -> list[Line]:
    """The text lines Tesseract reads on ``page`` rendered at ``dpi``.

    Raises:
        OcrUnavailableError: the ``ocr`` extra is missing.
    """
    if not ocr_available():
        raise OcrUnavailableError(INSTALL_HINT)
    import pytesseract

    scale = dpi / 72
    height = page.get_height()
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_pil()
        data = pytesseract.image_to_data(image, lang=languages, output_type=pytesseract.Output.DICT)
    finally:
        bitmap.close()
    grouped: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, text in enumerate(data["text"]):
        if str(text).strip() and float(data["conf"][i]) >= _MIN_CONFIDENCE:
            key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            grouped[key].append(i)
    lines: list[Line] = []
    for key in sorted(grouped):
        indices = sorted(grouped[key], key=lambda i: int(data["left"][i]))
        words: list[Word] = []
        parts: list[str] = []
        position = 0
        for i in indices:
            token = str(data["text"][i]).strip()
            if parts:
                position += 1
            left, top = int(data["left"][i]) / scale, int(data["top"][i]) / scale
            right = left + int(data["width"][i]) / scale
            bottom = top + int(data["height"][i]) / scale
            words.append(
                Word(position, position + len(token), left, height - bottom, right, height - top)
            )
            parts.append(token)
            position += len(token)
        lines.append(
            Line(
                text=" ".join(parts),
                words=tuple(words),
                x0=min(w.x0 for w in words),
                x1=max(w.x1 for w in words),
                baseline=min(w.y0 for w in words),
                # Box heights stand in for the font size; whole points absorb OCR jitter.
                size=float(round(median(w.y1 - w.y0 for w in words))),
                bold=False,
            )
        )
    return lines
