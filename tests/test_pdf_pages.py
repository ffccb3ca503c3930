"""PDF citations on the page: boxes hold the cited words, the page image route draws them;
scanned pages read by OCR (or a clear per-file error without Tesseract)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from PIL import Image

from index.formats.dehyphenate import search_text
from index.formats.pdf import document as pdf_document
from index.formats.pdf.ocr import ocr_available
from retriever.types import Mode
from tests.api_support import FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever
from tests.test_pdf_layout import two_column_pdf

SIGNED = "The agreement was signed by Margaret Olsen on the fourth of May."


def _text_in_box(path: Path, page: int, box: dict[str, float]) -> str:
    document = pdfium.PdfDocument(path)
    try:
        textpage = document[page - 1].get_textpage()
        return textpage.get_text_bounded(box["x0"], box["y0"], box["x1"], box["y1"])
    finally:
        document.close()


def _flat(text: str) -> str:
    # Letters and digits only: pdfium's boxed text drops the line-end hyphen mark.
    return re.sub(r"[\W_]+", "", search_text(text))


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pages")
    path = two_column_pdf(folder / "survey.pdf")
    index_paths(folder / "index", KeywordEncoder(), path)
    return path, folder / "index"


@pytest.fixture
def client(survey: tuple[Path, Path]) -> Iterator[TestClient]:
    with TestClient(make_app(survey[1], FakeExtractor(["Amelia Hart"]))) as test_client:
        yield test_client


def test_citation_boxes_enclose_the_cited_words(
    client: TestClient, survey: tuple[Path, Path]
) -> None:
    body = {"query": "lighthouse keeper tide log", "top_k": 1, "mode": "lexical", "answers": True}
    hit = client.post("/v1/search", json=body).json()["results"][0]
    citation = hit["citation"]
    assert citation["page"] == 2 and citation["pages"] == [2]
    boxes = citation["boxes"]
    printed_lines = [line for line in hit["text"].split("\n") if line.strip()]
    assert len(boxes) == len(printed_lines)  # one box per printed line
    inside = " ".join(_text_in_box(survey[0], b["page"], b) for b in boxes)
    assert _flat(inside) == _flat(hit["text"])
    answer = hit["answer"]
    assert answer["text"] == "Amelia Hart" and len(answer["boxes"]) == 1
    assert _flat(_text_in_box(survey[0], 2, answer["boxes"][0])) == "AmeliaHart"


def test_page_image_draws_the_highlight(client: TestClient) -> None:
    body = {"query": "lighthouse keeper tide log", "top_k": 1, "mode": "lexical"}
    hit = client.post("/v1/search", json=body).json()["results"][0]
    document_id = hit["citation"]["document_id"]
    url = f"/v1/documents/{document_id}/pages/2"
    plain = client.get(url, params={"width": 400})
    assert plain.status_code == 200 and plain.headers["content-type"] == "image/png"
    highlight = ";".join(
        f"{b['x0']},{b['y0']},{b['x1']},{b['y1']}" for b in hit["citation"]["boxes"]
    )
    marked = client.get(url, params={"width": 400, "highlight": highlight})
    before = Image.open(io.BytesIO(plain.content)).convert("RGB")
    after = Image.open(io.BytesIO(marked.content)).convert("RGB")
    assert before.size == after.size == (400, round(400 * 842 / 595))
    box = hit["citation"]["boxes"][0]
    scale = 400 / 595
    x = int((box["x0"] + box["x1"]) / 2 * scale)
    y = int((842 - (box["y0"] + box["y1"]) / 2) * scale)
    # Highlighted pixels turn yellowish: more red than blue.
    r, g, b = after.getpixel((x, y))  # type: ignore[misc]
    assert r > b + 40 and before.getpixel((x, y)) != after.getpixel((x, y))


def test_page_image_is_bounded(client: TestClient) -> None:
    hit = client.post("/v1/search", json={"query": "harbour", "top_k": 1}).json()["results"][0]
    url = f"/v1/documents/{hit['citation']['document_id']}/pages"
    assert client.get(f"{url}/99").status_code == 404
    assert client.get(f"{url}/0").status_code == 422
    assert client.get(f"{url}/1", params={"width": 50_000}).status_code == 422
    assert client.get(f"{url}/1", params={"highlight": "1,2,x"}).status_code == 422
    assert client.get("/v1/documents/nope/pages/1").status_code == 404


def _scanned_pdf(path: Path) -> Path:
    """A page with the text only as pixels: a generated page, rasterised."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.text(72, 120, "Lease of the harbour warehouse")
    pdf.set_font("Helvetica", size=12)
    pdf.text(72, 160, SIGNED)
    pdf.text(72, 180, "Witnessed by the harbour master at the port office.")
    source = pdf.output()
    page = pdfium.PdfDocument(bytes(source))[0]
    image = page.render(scale=200 / 72, grayscale=True).to_pil()
    image.save(path, "PDF", resolution=200.0)
    return path


@pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed (the ocr extra)")
def test_scanned_page_read_by_ocr_and_cited(tmp_path: Path) -> None:
    path = _scanned_pdf(tmp_path / "scan.pdf")
    embedder = KeywordEncoder()
    _, errors = index_paths(tmp_path / "index", embedder, path)
    assert errors == []
    hit = (
        open_retriever(tmp_path / "index", embedder)
        .search("who signed the agreement", 1, Mode.LEXICAL)
        .hits[0]
    )
    assert "Margaret Olsen" in hit.text
    assert hit.citation.page == 1 and hit.citation.boxes


def test_scan_without_tesseract_is_a_per_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("index.formats.pdf.ocr.ocr_available", lambda: False)
    folder = tmp_path / "docs"
    folder.mkdir()
    _scanned_pdf(folder / "scan.pdf")
    (folder / "notes.txt").write_text("The tide tables were printed in March.", encoding="utf-8")
    report, errors = index_paths(tmp_path / "index", KeywordEncoder(), folder)
    assert [Path(e.path).name for e in errors] == ["scan.pdf"]
    assert "tesseract-ocr" in errors[0].reason and "docqa[ocr]" in errors[0].reason
    assert report.documents_total == 1
    assert pdf_document.INSTALL_HINT in errors[0].reason
