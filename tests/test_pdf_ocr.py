"""OCR settings: the languages and resolution Tesseract reads scanned PDF pages with."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pydantic import ValidationError

from docqa.settings import Settings
from docqa.wiring import extract_limits
from index.errors import ExtractionError
from index.formats.pdf import extract_pdf
from index.formats.pdf.ocr import (
    OcrOptions,
    debian_package,
    installed_languages,
    lines_of,
    ocr_available,
)
from index.formats.sandbox import ExtractLimits, extract_bounded
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter
from tests.fakes import KeywordEncoder
from tests.test_pdf_pages import _scanned_pdf

needs_tesseract = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract is not installed (the ocr extra)"
)
CHINESE = "租赁合同由王明签署"


@pytest.mark.parametrize(
    "value", ["eng chi_sim", "eng+", "+eng", "eng++chi_sim", "", "script/Latin", "../x", "eng,fra"]
)
def test_malformed_ocr_languages_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="Tesseract language codes"):
        Settings(ocr_languages=value)


def test_ocr_settings_reach_the_extraction_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCQA_OCR_LANGUAGES", "eng+chi_sim")
    monkeypatch.setenv("DOCQA_OCR_DPI", "150")
    assert extract_limits(Settings()).ocr == OcrOptions(languages="eng+chi_sim", dpi=150)
    assert Settings().ocr_dpi == 150
    for dpi in (71, 601):
        with pytest.raises(ValidationError, match="ocr_dpi"):
            Settings(ocr_dpi=dpi)


def test_debian_package_names() -> None:
    assert debian_package("chi_sim") == "tesseract-ocr-chi-sim"
    assert debian_package("eng") == "tesseract-ocr-eng"


def test_chinese_words_join_without_spaces_latin_with() -> None:
    # One OCR line as Tesseract reports Chinese: a "word" per character or two.
    tokens = ["租赁", "合同", "由", "Wang", "Ming", "签署"]
    lefts = [0, 40, 80, 100, 160, 220]
    data: dict[str, list[object]] = {
        "text": tokens,
        "conf": [90.0] * len(tokens),
        "block_num": [1] * len(tokens),
        "par_num": [1] * len(tokens),
        "line_num": [1] * len(tokens),
        "left": lefts,
        "top": [10] * len(tokens),
        "width": [30] * len(tokens),
        "height": [20] * len(tokens),
    }
    (line,) = lines_of(data, scale=2.0, height=800.0)
    assert line.text == "租赁合同由 Wang Ming 签署"
    assert [line.text[w.start : w.end] for w in line.words] == tokens


def _text_pdf(path: Path) -> Path:
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.text(72, 120, "A page with a text layer needs no OCR.")
    pdf.output(str(path))
    return path


@needs_tesseract
def test_missing_language_is_a_per_file_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "xyz" not in installed_languages()
    monkeypatch.setenv("DOCQA_OCR_LANGUAGES", "eng+xyz")
    limits = extract_limits(Settings())
    folder = tmp_path / "docs"
    folder.mkdir()
    _scanned_pdf(folder / "scan.pdf")
    _text_pdf(folder / "typed.pdf")
    (folder / "notes.txt").write_text("The tide tables were printed in March.", encoding="utf-8")
    with IndexWriter(tmp_path / "index", KeywordEncoder()) as writer:
        errors = stage_paths(writer, discover((folder,)), limits=limits)
        report = writer.commit()
    assert [Path(e.path).name for e in errors] == ["scan.pdf"]
    reason = errors[0].reason
    # Only the missing language is named (eng is installed), with its package.
    assert "OCR language xyz is not installed" in reason
    assert reason.endswith("apt-get install tesseract-ocr-xyz")
    assert "Traceback" not in reason
    assert report.documents_total == 2  # the text-layer PDF needs no OCR


@needs_tesseract
def test_missing_language_in_process_is_an_extraction_error(tmp_path: Path) -> None:
    scan = _scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(ExtractionError, match="tesseract-ocr-xyz"):
        extract_pdf(scan, OcrOptions(languages="xyz"))
    with pytest.raises(ExtractionError, match="tesseract-ocr-xyz"):
        extract_bounded(scan, ExtractLimits(ocr=OcrOptions(languages="xyz")))
    with pytest.raises(ExtractionError, match="install tesseract-ocr-xyz tesseract-ocr-ab-cd$"):
        extract_pdf(scan, OcrOptions(languages="xyz+eng+ab_cd"))


def _cjk_font() -> str | None:
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False
    ).stdout
    files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    return files[0] if files else None


@needs_tesseract
def test_chinese_scan_read_with_chi_sim(tmp_path: Path) -> None:
    if "chi_sim" not in installed_languages():
        pytest.skip("Tesseract's chi_sim data is not installed (tesseract-ocr-chi-sim)")
    font_file = _cjk_font()
    if font_file is None:
        pytest.skip("no font with Chinese glyphs to draw the scan (fc-list :lang=zh is empty)")
    # A4 at 200 dpi, the text drawn as pixels: a page with no text layer.
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    draw.text((160, 300), CHINESE, font=ImageFont.truetype(font_file, 56), fill=0)
    scan = tmp_path / "scan.pdf"
    image.save(scan, "PDF", resolution=200.0)
    text = extract_bounded(scan, ExtractLimits(ocr=OcrOptions(languages="chi_sim"))).text
    assert "租赁合同" in text and "王明" in text
