"""HTML, PDF and DOCX extraction on real files built in a temp dir."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from index.errors import ExtractionError
from index.formats import extract
from index.formats.docx import extract_docx
from index.formats.extracted import Extracted
from index.formats.html import extract_html
from index.formats.pdf import extract_pdf

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

LONG_PARAGRAPH = (
    "The harbour crane lifted forty containers before noon. "
    "Inspectors counted every seal twice and logged the numbers by hand. "
    "Nobody on the quay expected the storm that arrived in the afternoon. "
    "By evening the cranes were locked and the ships were riding at anchor."
)
PAGE_TWO = "Page two mentions the lighthouse keeper Amelia Hart."
PAGE_THREE = "The third page closes with a note about tide tables."


def assert_paragraph_contract(extracted: Extracted) -> list[str]:
    """Paragraphs are separated by exactly one blank line and carry no stray whitespace."""
    text = extracted.text
    assert text == text.strip()
    assert "\n\n\n" not in text
    paragraphs = text.split("\n\n")
    for paragraph in paragraphs:
        assert paragraph, "empty paragraph"
        assert paragraph == paragraph.strip()
        assert not re.search(r"\n[ \t]*\n", paragraph), f"blank line inside {paragraph!r}"
    for heading in extracted.headings:
        assert text.startswith(heading.text, heading.char_start)
        assert (
            heading.char_start == 0 or text[heading.char_start - 2 : heading.char_start] == "\n\n"
        )
    return paragraphs


# --- PDF -----------------------------------------------------------------------------


def _pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(6)
    pdf.output(str(path))
    return path


@pytest.fixture
def report_pdf(tmp_path: Path) -> Path:
    return _pdf(
        tmp_path / "report.pdf",
        [
            ["Quarterly Harbour Report", LONG_PARAGRAPH, "A short closing line."],
            [PAGE_TWO],
            [PAGE_THREE],
        ],
        title="Harbour Report 2024",
    )


def test_pdf_pages_map_sentences_to_their_page(report_pdf: Path) -> None:
    result = extract_pdf(report_pdf)
    assert [page.number for page in result.pages] == [1, 2, 3]
    for sentence, number in [
        ("forty containers", 1),
        ("A short closing line.", 1),
        (PAGE_TWO, 2),
        (PAGE_THREE, 3),
    ]:
        offset = result.text.index(sentence)
        assert result.page_at(offset) == number
        span = result.pages[number - 1]
        assert sentence in result.text[span.char_start : span.char_end]
    # Page spans are ordered, disjoint, and separated by a blank line.
    for before, after in zip(result.pages, result.pages[1:], strict=False):
        assert result.text[before.char_end : after.char_start] == "\n\n"
    assert result.pages[0].char_start == 0 and result.pages[-1].char_end == len(result.text)


def test_pdf_wrapped_lines_join_into_one_paragraph(report_pdf: Path) -> None:
    result = extract_pdf(report_pdf)
    paragraphs = assert_paragraph_contract(result)
    # fpdf2 wrapped LONG_PARAGRAPH over several lines; it must come back whole, its
    # lines joined by newlines (so that line-end hyphens can be undone for search).
    assert LONG_PARAGRAPH in [" ".join(p.split()) for p in paragraphs]
    assert paragraphs[0] == "Quarterly Harbour Report"
    assert "A short closing line." in paragraphs


def test_pdf_title_from_metadata_else_first_short_paragraph(
    report_pdf: Path, tmp_path: Path
) -> None:
    assert extract_pdf(report_pdf).title == "Harbour Report 2024"
    untitled = _pdf(tmp_path / "untitled.pdf", [["Field Notes", LONG_PARAGRAPH]])
    assert extract_pdf(untitled).title == "Field Notes"
    long_first = _pdf(tmp_path / "long.pdf", [[LONG_PARAGRAPH]])
    assert extract_pdf(long_first).title is None


def test_pdf_is_deterministic_and_dispatched_by_suffix(report_pdf: Path) -> None:
    assert extract(report_pdf) == extract_pdf(report_pdf)


@pytest.mark.skipif(not DEJAVU.exists(), reason="needs the DejaVu TTF font for non-latin-1 text")
def test_pdf_curly_quotes_survive(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 6, "She said “like this” and left — quickly.")
    path = tmp_path / "quotes.pdf"
    pdf.output(str(path))
    assert "“like this”" in extract_pdf(path).text


def test_truncated_pdf_raises(report_pdf: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(report_pdf.read_bytes()[:400])
    with pytest.raises(ExtractionError, match="not a valid PDF") as info:
        extract_pdf(broken)
    assert str(broken) in str(info.value)


def test_cli_reports_a_truncated_pdf_without_pypdf_noise(report_pdf: Path, tmp_path: Path) -> None:
    # A real process: the PDF is read in an extraction worker that writes to the
    # terminal's stderr, which CliRunner would not capture.
    data = report_pdf.read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(data[: len(data) // 2])
    env = dict(os.environ, DOCQA_E5="0", COLUMNS="300", HF_HUB_OFFLINE="1")
    cli = "from docqa.cli import main; main()"
    args = [sys.executable, "-c", cli, "index", str(broken), "--index-dir", str(tmp_path / "i")]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert f"skipped {broken}: not a valid PDF" in done.stderr
    # pypdf (the stream-reuse guard) repairs what it can and logs each repair.
    output = done.stdout + done.stderr
    assert "EOF marker" not in output and "startxref" not in output.lower(), output


def test_non_pdf_bytes_raise(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"hello, I am not a PDF")
    with pytest.raises(ExtractionError, match="not a valid PDF") as info:
        extract(fake)
    assert str(fake) in str(info.value)


def test_password_protected_pdf_raises(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="Secret words.")
    pdf.set_encryption(
        owner_password="o", user_password="u", encryption_method=EncryptionMethod.RC4
    )
    path = tmp_path / "locked.pdf"
    pdf.output(str(path))
    with pytest.raises(ExtractionError, match="password") as info:
        extract_pdf(path)
    assert str(path) in str(info.value)


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="Owner-only protection.")
    pdf.set_encryption(owner_password="o", user_password="", encryption_method=EncryptionMethod.RC4)
    path = tmp_path / "owner.pdf"
    pdf.output(str(path))
    assert extract_pdf(path).text == "Owner-only protection."


def test_pdf_without_text_layer_raises(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a "scan": ink but no text
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(ExtractionError, match="no extractable text") as info:
        extract_pdf(path)
    assert str(path) in str(info.value)


# --- DOCX ----------------------------------------------------------------------------


def _docx(path: Path, core_title: str | None = None) -> Path:
    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    document.add_heading("Annual Survey", 0)
    document.add_heading("Introduction", 1)
    document.add_paragraph("The survey   covered\tthree regions.")
    document.add_paragraph("   ")  # empty paragraphs are dropped
    document.add_heading("Findings", 2)
    run = document.add_paragraph("调查结果显示 “like this” growth").add_run()
    run.add_break()
    run.add_text("after a soft break.")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Region"
    table.cell(0, 2).text = "Count"
    for column, value in enumerate(["North", "", "42"]):
        table.cell(1, column).text = value
    document.add_paragraph("Closing remarks follow the table.")
    document.save(str(path))
    return path


def test_docx_paragraphs_headings_and_table(tmp_path: Path) -> None:
    result = extract_docx(_docx(tmp_path / "survey.docx"))
    paragraphs = assert_paragraph_contract(result)
    assert paragraphs == [
        "Annual Survey",
        "Introduction",
        "The survey covered three regions.",
        "Findings",
        "调查结果显示 “like this” growth after a soft break.",
        "Region | Count",  # the merged cell appears once
        "North | 42",  # the empty cell is skipped
        "Closing remarks follow the table.",
    ]
    assert [h.text for h in result.headings] == ["Annual Survey", "Introduction", "Findings"]
    assert result.heading_before(result.text.index("three regions")) == "Introduction"
    assert result.heading_before(result.text.index("“like this”")) == "Findings"
    assert result.heading_before(result.text.index("North | 42")) == "Findings"
    assert result.title == "Annual Survey"
    assert result.pages == ()


def test_docx_title_prefers_core_properties(tmp_path: Path) -> None:
    path = _docx(tmp_path / "titled.docx", core_title="  Survey   2024 ")
    assert extract_docx(path).title == "Survey 2024"
    assert extract(path) == extract_docx(path)


def test_random_bytes_docx_raises(tmp_path: Path) -> None:
    path = tmp_path / "random.docx"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ExtractionError, match="not a valid DOCX") as info:
        extract(path)
    assert str(path) in str(info.value)


def test_zip_that_is_not_docx_raises(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "just a zip")
    with pytest.raises(ExtractionError, match="not a valid DOCX") as info:
        extract_docx(path)
    assert str(path) in str(info.value)


# --- HTML ----------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title> Harbour   News </title>
<style>.x { color: red }</style><script>var tracking = "SCRIPT_TEXT";</script></head>
<body>
<header><a href="/">SITE_BANNER</a></header>
<nav><ul><li>NAV_LINK_HOME</li><li>NAV_LINK_ABOUT</li></ul></nav>
<main>
  <h1>Storm  closes   the port</h1>
  <p>The harbour <b>closed</b> at
     noon.<br>Ships waited.</p>
  <script>document.write("INLINE_SCRIPT")</script>
  <h2>Reactions</h2>
  <p>港口<b>关闭</b>了 and “like this” quotes.</p>
  <ul><li>First item</li><li>Second <i>item</i></li></ul>
  <table><tr><th>Ship</th><th>Hours</th></tr><tr><td>Aurora</td><td>12</td></tr></table>
  <pre>line one

    line two</pre>
  <div>Loose div text<div>nested div</div></div>
  <p hidden>HIDDEN_TEXT</p>
  <noscript>NOSCRIPT_TEXT</noscript>
  <form><label>FORM_LABEL</label></form>
</main>
<aside>ASIDE_TEXT</aside>
<footer>FOOTER_TEXT</footer>
</body></html>
"""


def test_html_keeps_main_content_and_drops_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "news.html"
    path.write_text(PAGE, encoding="utf-8")
    result = extract_html(path)
    paragraphs = assert_paragraph_contract(result)
    for junk in [
        "SCRIPT_TEXT",
        "INLINE_SCRIPT",
        "SITE_BANNER",
        "NAV_LINK",
        "ASIDE_TEXT",
        "FOOTER_TEXT",
        "HIDDEN_TEXT",
        "NOSCRIPT_TEXT",
        "FORM_LABEL",
        "color: red",
    ]:
        assert junk not in result.text
    assert paragraphs == [
        "Storm closes the port",
        "The harbour closed at noon. Ships waited.",
        "Reactions",
        "港口关闭了 and “like this” quotes.",
        "First item",
        "Second item",
        "Ship | Hours",
        "Aurora | 12",
        "line one\n    line two",
        "Loose div text",
        "nested div",
    ]
    assert result.title == "Harbour News"
    assert [h.text for h in result.headings] == ["Storm closes the port", "Reactions"]
    assert result.heading_before(result.text.index("Aurora")) == "Reactions"
    assert extract(path) == result


def test_html_without_main_uses_body_and_drops_page_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.htm"
    path.write_text(
        "<html><body><header>BANNER</header><h1>Only  Heading</h1><div>Body text</div>"
        "<footer>FOOTER</footer></body></html>",
        encoding="utf-8",
    )
    result = extract(path)
    assert result.text == "Only Heading\n\nBody text"
    assert result.title == "Only Heading"  # no <title>: the first <h1>


def test_html_article_keeps_its_own_header(tmp_path: Path) -> None:
    path = tmp_path / "article.html"
    path.write_text(
        "<body><header>SITE</header><article><header><h1>Article title</h1></header>"
        "<p>Story.</p></article><aside><article>TEASER</article></aside></body>",
        encoding="utf-8",
    )
    result = extract_html(path)
    assert result.text == "Article title\n\nStory."
    assert result.headings[0].text == "Article title"


def test_html_declared_legacy_charset_is_used(tmp_path: Path) -> None:
    path = tmp_path / "legacy.html"
    path.write_bytes(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        b"</head><body><p>Caf\xe9 \x93quoted\x94</p></body></html>"
    )
    assert extract_html(path).text == "Café “quoted”"


def test_html_deep_nesting_does_not_recurse(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<body>" + "<span>" * 5000 + "deep text" + "</span>" * 5000 + "</body>")
    assert extract_html(path).text == "deep text"


def test_html_invalid_encoding_raises(tmp_path: Path) -> None:
    path = tmp_path / "latin.html"
    path.write_bytes(b"<html><body><p>caf\xe9 \xff</p></body></html>")
    with pytest.raises(ExtractionError, match="not valid utf-8") as info:
        extract(path)
    assert str(path) in str(info.value)


def test_html_binary_bytes_raise(tmp_path: Path) -> None:
    path = tmp_path / "image.html"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ExtractionError, match="binary") as info:
        extract_html(path)
    assert str(path) in str(info.value)
