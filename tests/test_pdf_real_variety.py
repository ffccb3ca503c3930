"""PDF layout cases met in real PDFs that are not texinfo manuals, on generated PDFs.

Distiller and Ghostscript output (``/F 1 Tf`` with a scaled text matrix), a scaled page
matrix, hanging indents of list items, prose set larger than long code listings, bold
captions, and a paragraph running on into the next column. The last test reads real PDFs
from ``~/.cache/docqa/more-pdfs`` (``$DOCQA_MORE_PDFS``) when they are there; see
docs/benchmarks.md, "Real PDFs".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF

from index.formats.extracted import Extracted
from index.formats.pdf import extract_pdf
from index.formats.pdf.lines import page_lines

SIZE, LEADING = 10.0, 12.0
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# Real PDFs longer than this are left out of the test (the report script reads them all).
MAX_REAL_PAGES = 120
LEFT = 72.0
WORDS = (
    "The Proceedings of the harbour board record every decision about the northern "
    "quay, and the LaTeX sources of each report are kept beside the printed copy so "
    "that later readers can rebuild the tables and check the figures for themselves."
).split()


def _width(text: str, size: float = SIZE, style: str = "") -> float:
    pdf = FPDF(unit="pt")
    pdf.set_font("Helvetica", style=style, size=size)
    return float(pdf.get_string_width(text))


def _raw_pdf(path: Path, content: str) -> Path:
    """A one-page PDF whose content stream is ``content``, Helvetica as /F1."""
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(out)
    return path


def _placed_glyph_runs(scale: float) -> list[tuple[str, float, float, float]]:
    """(text, x, baseline, size) of each run: words placed by coordinates (no spaces),
    "Proceedings" in two runs with a kern of 0.4 pt, and the LaTeX logo's raised A and
    lowered E, as TeX draws them."""
    runs: list[tuple[str, float, float, float]] = []
    x, y = LEFT, 700.0
    space = _width(" ")
    for word in WORDS:
        if x + _width(word) > LEFT + 300:
            x, y = LEFT, y - LEADING
        if word == "Proceedings":
            runs.append(("Pro", x, y, SIZE))
            runs.append(("ceedings", x + _width("Pro") + 0.4, y, SIZE))
        elif word == "LaTeX":
            runs.append(("L", x, y, SIZE))
            runs.append(("A", x + _width("L") - 2.6, y + 2.1, 0.7 * SIZE))
            runs.append(("T", x + _width("L") + 1.2, y, SIZE))
            runs.append(("E", x + _width("LT") + 0.5, y - 2.2, SIZE))
            runs.append(("X", x + _width("LTE"), y, SIZE))
        else:
            runs.append((word, x, y, SIZE))
        x += _width(word) + space
    return runs


def _distiller_pdf(path: Path) -> Path:
    """Every run in ``/F1 1 Tf`` with the printed size in the text matrix."""
    ops = [
        f"BT /F1 1 Tf {size} 0 0 {size} {x:.2f} {y:.2f} Tm ({text}) Tj ET"
        for text, x, y, size in _placed_glyph_runs(1.0)
    ]
    return _raw_pdf(path, "\n".join(ops))


def _scaled_page_pdf(path: Path) -> Path:
    """The page drawn in tenths of a point: ``0.1 0 0 0.1 0 0 cm``, fonts set 10x larger."""
    ops = ["q 0.1 0 0 0.1 0 0 cm"]
    ops += [
        f"BT /F1 {10 * size} Tf 1 0 0 1 {10 * x:.1f} {10 * y:.1f} Tm ({text}) Tj ET"
        for text, x, y, size in _placed_glyph_runs(1.0)
    ]
    ops.append("Q")
    return _raw_pdf(path, "\n".join(ops))


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("make", [_distiller_pdf, _scaled_page_pdf])
def test_text_matrix_scale_gives_the_printed_size(make: object, tmp_path: Path) -> None:
    assert callable(make)
    path = make(tmp_path / "scaled.pdf")
    document = pdfium.PdfDocument(path)
    try:
        sizes = [line.size for line in page_lines(document[0])]
    finally:
        document.close()
    assert sizes and all(size == SIZE for size in sizes)
    extracted = extract_pdf(path)
    # One paragraph: the raised A and lowered E of the logo do not open new lines.
    assert "\n\n" not in extracted.text
    flat = _flat(extracted.text)
    # Kerns inside a word are no word spaces, and word gaps are.
    assert flat.startswith("The Proceedings of the harbour board record every decision")
    assert "LATEX sources" in flat
    assert flat.endswith("check the figures for themselves.")
    assert len(extracted.passages) == 1


def _text_lines(pdf: FPDF, x: float, y: float, lines: list[str]) -> float:
    for line in lines:
        pdf.text(x, y, line)
        y += LEADING
    return y


def _new_pdf() -> FPDF:
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=SIZE)
    return pdf


def _blocks(extracted: Extracted) -> list[str]:
    return [_flat(block) for block in extracted.text.split("\n\n")]


BULLET = [
    "- If you received mail through an alias of the project and would",
    "   like to leave, open a ticket for the administrators and name every",
    "   alias that should be removed from the list.",
]
PARAGRAPH_ONE = [
    "   The harbour board meets on the first Monday of every month in the old",
    "customs house, and anyone may attend the public part of the meeting.",
    "Minutes are published a week later.",
]
PARAGRAPH_TWO = [
    "   Questions for the board are sent in writing before the meeting, and the",
    "secretary reads them out in the order they arrived.",
]


def test_hanging_indent_continues_and_first_line_indent_breaks(tmp_path: Path) -> None:
    pdf = _new_pdf()
    y = _text_lines(pdf, LEFT, 100.0, PARAGRAPH_ONE)
    y = _text_lines(pdf, LEFT, y, PARAGRAPH_TWO)  # no gap: only the indent tells
    y = _text_lines(pdf, LEFT, y + LEADING, BULLET)
    pdf.text(LEFT, y, "- Orphan every package you maintain before you leave.")
    path = tmp_path / "indents.pdf"
    pdf.output(str(path))
    blocks = _blocks(extract_pdf(path))
    assert _flat(" ".join(PARAGRAPH_ONE)) in blocks
    assert _flat(" ".join(PARAGRAPH_TWO)) in blocks
    assert _flat(" ".join(BULLET)) in blocks


PROSE = [
    "The survey team logged the depth of every berth along the northern quay",
    "during the spring tides and compared each reading with the old charts of",
    "the harbour that the port authority keeps in its archive in town",
]
CODE = "depth[berth] <- read_gauge(station = s, tide = t, unit = 'm'); log(depth)"


def test_body_size_is_read_from_prose_not_code(tmp_path: Path) -> None:
    pdf = _new_pdf()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.text(LEFT, 80.0, "Survey method")
    pdf.set_font("Helvetica", size=SIZE)
    y = _text_lines(pdf, LEFT, 100.0, PROSE)
    # A code listing set smaller, with more characters than the prose.
    pdf.set_font("Courier", size=8)
    for row in range(30):
        pdf.text(LEFT, y + LEADING + row * 9.0, f"{row:02d} {CODE}")
    path = tmp_path / "listing.pdf"
    pdf.output(str(path))
    extracted = extract_pdf(path)
    assert [heading.text for heading in extracted.headings] == ["Survey method"]
    assert _flat(" ".join(PROSE)) in _blocks(extracted)


@pytest.mark.skipif(not DEJAVU_BOLD.exists(), reason="needs DejaVu Sans Bold (fonts-dejavu-core)")
def test_bold_running_text_is_no_heading(tmp_path: Path) -> None:
    caption = [
        "Figure 2: The northern quay at low tide. Photograph by Har-",
        "ris & Ewing, taken from the lighthouse gallery.",
    ]
    warning = ["Your report will be returned to you for revision if the", "tables are altered."]
    pdf = _new_pdf()
    # Core fonts carry no weight pdfium can read; an embedded bold TrueType does.
    pdf.add_font("DejaVu", style="B", fname=str(DEJAVU_BOLD))
    pdf.set_font("DejaVu", style="B", size=SIZE)
    pdf.text(LEFT, 80.0, "Survey results")
    y = _text_lines(pdf, LEFT, 100.0 + LEADING, caption)
    _text_lines(pdf, LEFT, y + LEADING, warning)
    path = tmp_path / "bold.pdf"
    pdf.output(str(path))
    extracted = extract_pdf(path)
    assert [heading.text for heading in extracted.headings] == ["Survey results"]
    assert "Har-\nris & Ewing" in extracted.text
    assert _flat(" ".join(warning)) in _blocks(extracted)


def test_paragraph_running_on_into_the_next_column_is_one_block(tmp_path: Path) -> None:
    left = [  # each line about 200 pt wide: a 230 pt column
        "Changing the template, including the margins,",
        "the typeface sizes, the line spacing and the",
        "paragraph and list definitions,",
    ]
    right = [
        "and the use of commands that adjust vertical",
        "spacing, is not allowed in any report sent to",
        "the harbour board.",
    ]
    pdf = _new_pdf()
    _text_lines(pdf, 50.0, 700.0, left)  # bottom of the left column
    _text_lines(pdf, 315.0, 80.0, right)  # top of the right column
    pdf.text(315.0, 80.0 + 3 * LEADING, "The next paragraph starts here after a gap.")
    path = tmp_path / "columns.pdf"
    pdf.output(str(path))
    blocks = _blocks(extract_pdf(path))
    assert _flat(" ".join(left + right)) in blocks
    assert "The next paragraph starts here after a gap." in blocks


def _more_pdfs() -> list[Path]:
    env = os.environ.get("DOCQA_MORE_PDFS")
    root = Path(env) if env else Path.home() / ".cache" / "docqa" / "more-pdfs"
    return sorted(p for p in root.rglob("*.pdf") if p.is_file() and not p.is_symlink())


_WORD = re.compile(r"[^\W\d_]{4,}")


def _vocabulary(text: str) -> set[str]:
    # Words broken at a line end joined again (pdfium marks its own breaks U+FFFE).
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text.replace("\ufffe", ""))
    return {word.lower() for word in _WORD.findall(text)}


@pytest.mark.slow
def test_real_pdfs_keep_pdfium_words(tmp_path: Path) -> None:
    files = _more_pdfs()
    if not files:
        pytest.skip(
            "no real PDFs under ~/.cache/docqa/more-pdfs ($DOCQA_MORE_PDFS); "
            "see docs/benchmarks.md, 'Real PDFs', for the packages to unpack there"
        )
    for path in files:
        document = pdfium.PdfDocument(path)
        if len(document) > MAX_REAL_PAGES:
            document.close()
            continue
        plain = []
        for page in document:
            textpage = page.get_textpage()
            plain.append(textpage.get_text_range())
            textpage.close()
        document.close()
        vocabulary = _vocabulary("\n".join(plain))
        if len(vocabulary) < 100:
            continue  # a figure or a one-line sample: nothing to compare
        missing = vocabulary - _vocabulary(extract_pdf(path).text)
        # Words split by kerns or glued at word gaps show up as pdfium words we lack.
        assert len(missing) <= 0.01 * len(vocabulary), (path.name, sorted(missing)[:20])


def test_rotated_labels_stay_whole(tmp_path: Path) -> None:
    pdf = _new_pdf()
    _text_lines(pdf, LEFT, 100.0, PROSE)
    # An axis title turned a quarter, a slanted column label, as plots print them.
    with pdf.rotation(angle=90, x=LEFT, y=400.0):
        pdf.text(LEFT, 400.0, "Susceptible bird survival")
    with pdf.rotation(angle=-45, x=200.0, y=300.0):
        pdf.text(200.0, 300.0, "Achnanthes minutissima Kuetzing")
    path = tmp_path / "figure.pdf"
    pdf.output(str(path))
    blocks = _blocks(extract_pdf(path))
    assert "Susceptible bird survival" in blocks
    assert "Achnanthes minutissima Kuetzing" in blocks
    assert _flat(" ".join(PROSE)) in blocks
