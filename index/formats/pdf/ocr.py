"""Text lines of a scanned page, read by Tesseract (the optional ``ocr`` extra).

pytesseract drives Debian's ``tesseract-ocr`` binary; its word boxes come back in
pixels and are turned into PDF points so that citations can be drawn on the page.
"""

from __future__ import annotations

import functools
import re
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

import pypdfium2 as pdfium

from index.formats.pdf.lines import Line, Word

INSTALL_HINT = (
    "install the OCR extra: apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-chi-sim && pip install 'docqa[ocr]'"
)
# Words Tesseract is less sure of than this (0-100) are dropped as noise.
_MIN_CONFIDENCE = 30.0
# Tesseract reads Chinese and Japanese as one "word" per character or few; between two
# of them the page has no space, and a space would split the CJK bigrams BM25 indexes.
# (Kana, ideographs, CJK and full-width punctuation; not hangul: Korean spaces its words.)
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read (``DOCQA_OCR_LANGUAGES``, ``DOCQA_OCR_DPI``).

    Attributes:
        languages: Tesseract language codes joined by ``+`` (``eng``, ``eng+chi_sim``).
        dpi: resolution the page is rendered at for Tesseract.
    """

    languages: str = "eng"
    dpi: int = 300


#: English at 300 dpi, the defaults of the settings.
DEFAULT_OCR = OcrOptions()


class OcrUnavailableError(RuntimeError):
    """Tesseract or pytesseract is not installed."""


class OcrLanguageMissingError(RuntimeError):
    """Tesseract is installed but lacks the data of a requested language."""


def ocr_available() -> bool:
    """Whether scanned pages can be read: pytesseract importable and tesseract on PATH."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


@functools.cache
def installed_languages() -> frozenset[str]:
    """The languages this machine's Tesseract has data for (asked once per process)."""
    import pytesseract

    return frozenset(pytesseract.get_languages(config=""))


def debian_package(language: str) -> str:
    """The Debian package of Tesseract's ``language`` data (chi_sim: tesseract-ocr-chi-sim)."""
    return "tesseract-ocr-" + language.lower().replace("_", "-")


def check_languages(languages: str) -> None:
    """Fail with the packages to install when a code of ``languages`` has no data.

    Raises:
        OcrLanguageMissingError: one or more languages are not installed.
    """
    missing = [code for code in languages.split("+") if code not in installed_languages()]
    if missing:
        named = (
            f"language {missing[0]} is"
            if len(missing) == 1
            else f"languages {', '.join(missing)} are"
        )
        packages = " ".join(debian_package(code) for code in missing)
        raise OcrLanguageMissingError(
            f"OCR {named} not installed for Tesseract (DOCQA_OCR_LANGUAGES={languages}); "
            f"install: apt-get install {packages}"
        )


def ocr_lines(page: pdfium.PdfPage, options: OcrOptions) -> list[Line]:
    """The text lines Tesseract reads on ``page``, rendered at ``options.dpi``.

    Raises:
        OcrUnavailableError: the ``ocr`` extra is missing.
        OcrLanguageMissingError: Tesseract lacks a language of ``options.languages``.
    """
    if not ocr_available():
        raise OcrUnavailableError(INSTALL_HINT)
    check_languages(options.languages)
    import pytesseract

    scale = options.dpi / 72
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_pil()
        data = pytesseract.image_to_data(
            image, lang=options.languages, output_type=pytesseract.Output.DICT
        )
    finally:
        bitmap.close()
    return lines_of(data, scale=scale, height=page.get_height())


def _joins_without_space(before: str, after: str) -> bool:
    return bool(_CJK.match(before[-1]) and _CJK.match(after[0]))


def lines_of(data: Mapping[str, Sequence[Any]], *, scale: float, height: float) -> list[Line]:
    """Tesseract's word table (``image_to_data``) as lines, boxes in PDF points.

    Args:
        data: pytesseract's ``Output.DICT`` of one page image.
        scale: image pixels per PDF point.
        height: the page height in points (PDF's y axis runs upwards).
    """
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
            if parts and not _joins_without_space(parts[-1], token):
                parts.append(" ")
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
                text="".join(parts),
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
