"""Layout-aware PDF passages on a generated two-column PDF with running headers/footers,
words placed by coordinates (no space characters), hyphenation and a contents page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from index.formats.dehyphenate import search_text
from index.formats.extracted import Extracted
from index.formats.pdf import extract_pdf
from index.formats.pdf.passages import MAX_CHARS, Unit, passage_spans
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever

HEADER = "Harbour Survey Report"
COLUMN_WIDTH = 230.0
LEFT, RIGHT = 50.0, 315.0
SIZE, LEADING = 10.0, 13.0

# "|" forces a line break after the hyphen: the word is printed broken over two lines.
LEFT_TEXT = [
    "The harbour survey measured the depth of every berth along the northern quay "
    "during the spring tides, and the team logged each reading by hand before noon.",
    "Divers inspected the old sea wall and found that the mortar between the granite "
    "blocks had washed out in several places, which explains the slow leak that the "
    "harbour master reported in the winter. Repair work needs comple-|tion before the "
    "autumn storms arrive, or the wall may fail.",
]
RIGHT_TEXT = [
    "The lighthouse keeper Amelia Hart kept a tide log for thirty years and her notes "
    "agree with the survey within a few centimetres at every station.",
    "Dredging of the eastern channel should start in March, once the licence from the "
    "port authority arrives, and it will take about six weeks to finish the work.",
]
PAGE_TWO = [
    "Cargo volumes at the container terminal rose by a fifth over the year, mostly from "
    "refrigerated fruit shipments arriving on Tuesdays from the southern ports. The "
    "terminal operator plans to add two more cranes to cope with the traffic, and the "
    "harbour board will decide on the funding at its next meeting in the",
]
PAGE_THREE_CONTINUED = (
    "spring, after the budget of the city council is known to everyone on the board."
)
TERM, DEFINITION = (
    "buoyancy",
    "The upward force that keeps a moored vessel afloat, measured by the survey "
    "divers at each berth with a calibrated gauge.",
)


class _Writer:
    """Places every word by coordinates, as DocBook/FOP output does: no space glyphs."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def line(self, x: float, y: float, words: list[str]) -> None:
        space = self.pdf.get_string_width(" ")
        for word in words:
            self.pdf.text(x, y, word)
            x += self.pdf.get_string_width(word) + space

    def paragraph(self, x: float, y: float, text: str, width: float = COLUMN_WIDTH) -> float:
        space = self.pdf.get_string_width(" ")
        line: list[str] = []
        used = 0.0
        for token in text.split():
            head, _, tail = token.partition("|")
            word_width = self.pdf.get_string_width(head)
            if line and used + space + word_width > width:
                self.line(x, y, line)
                y += LEADING
                line, used = [], 0.0
            line.append(head)
            used += (space if used else 0.0) + word_width
            if tail:
                self.line(x, y, line)
                y += LEADING
                line, used = [tail], self.pdf.get_string_width(tail)
        if line:
            self.line(x, y, line)
            y += LEADING
        return y + LEADING  # a blank line's worth of gap after a paragraph


def _furniture(pdf: FPDF, number: int) -> None:
    pdf.set_font("Helvetica", size=8)
    pdf.text(LEFT, 30, HEADER)
    pdf.text(500, 815, str(number))
    pdf.set_font("Helvetica", size=SIZE)


def two_column_pdf(path: Path) -> Path:
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    writer = _Writer(pdf)
    # Page 1: contents, dot leaders and page numbers.
    pdf.add_page()
    _furniture(pdf, 1)
    y = 80.0
    for entry, page in [
        ("Survey", 2),
        ("Sea wall", 2),
        ("Lighthouse", 2),
        ("Dredging", 2),
        ("Cargo", 3),
        ("Terms", 4),
        ("Appendix", 4),
    ]:
        pdf.text(LEFT, y, entry + " " + "." * 60)
        pdf.text(480, y, str(page))
        y += LEADING
    # Page 2: two columns.
    pdf.add_page()
    _furniture(pdf, 2)
    y = 80.0
    for paragraph in LEFT_TEXT:
        y = writer.paragraph(LEFT, y, paragraph)
    y = 80.0
    for paragraph in RIGHT_TEXT:
        y = writer.paragraph(RIGHT, y, paragraph)
    # Page 3: a paragraph that runs on to page 4 (no gap, no sentence end).
    pdf.add_page()
    _furniture(pdf, 3)
    y = 700.0
    for paragraph in PAGE_TWO:
        y = writer.paragraph(LEFT, y, paragraph, width=480)
    pdf.add_page()
    _furniture(pdf, 4)
    y = writer.paragraph(LEFT, 80.0, PAGE_THREE_CONTINUED, width=480)
    # A definition list: the bold term alone on its line, its definition indented.
    pdf.set_font("Helvetica", style="B", size=SIZE)
    pdf.text(LEFT, y, TERM)
    pdf.set_font("Helvetica", size=SIZE)
    writer.paragraph(LEFT + 30, y + LEADING, DEFINITION, width=420)
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Extracted:
    return extract_pdf(two_column_pdf(tmp_path_factory.mktemp("pdf") / "survey.pdf"))


def _passages(extracted: Extracted) -> list[str]:
    return [extracted.text[a:b] for a, b in extracted.passages]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_words_placed_by_coordinates_keep_their_spaces(extracted: Extracted) -> None:
    flat = _flat(extracted.text)
    assert "measured the depth of every berth" in flat
    assert "The lighthouse keeper Amelia Hart kept a tide log" in flat


def test_columns_read_in_order_and_paragraphs_rebuilt(extracted: Extracted) -> None:
    text = _flat(extracted.text)
    assert text.index("logged each reading") < text.index("Divers inspected")
    assert text.index("autumn storms") < text.index("The lighthouse keeper")
    # Each printed paragraph comes back as one block, lines joined by newlines.
    blocks = [_flat(b) for b in extracted.text.split("\n\n")]
    assert _flat(LEFT_TEXT[0]) in blocks and _flat(RIGHT_TEXT[1]) in blocks


def test_passage_offsets_slice_the_text_exactly(extracted: Extracted) -> None:
    assert extracted.passages
    for start, end in extracted.passages:
        piece = extracted.text[start:end]
        assert piece and piece == piece.strip()
    ordered = sorted(extracted.passages)
    assert all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False))


def test_headers_footers_and_contents_stay_in_text_but_out_of_passages(
    extracted: Extracted,
) -> None:
    assert HEADER in extracted.text and "Sea wall" in extracted.text
    for passage in _passages(extracted):
        assert HEADER not in passage
        assert "....." not in passage
        assert passage.strip() not in {"1", "2", "3", "4"}
    # The header's characters still belong to their page.
    header_at = extracted.text.index(HEADER)
    assert extracted.page_at(header_at) is not None


def test_lone_term_kept_with_its_definition(extracted: Extracted) -> None:
    holding = [p for p in _passages(extracted) if TERM in p]
    assert len(holding) == 1
    assert "upward force that keeps a moored vessel" in _flat(holding[0])


def test_paragraph_across_a_page_break_is_one_passage(extracted: Extracted) -> None:
    passage = next(p for p in _passages(extracted) if "meeting in the" in p)
    assert "after the budget of the city council" in passage
    start = extracted.text.index(passage)
    assert extracted.page_at(start) == 3
    assert extracted.page_at(start + len(passage) - 1) == 4


def test_hyphenation_undone_for_search_only(extracted: Extracted) -> None:
    passage = next(p for p in _passages(extracted) if "comple-" in p)
    assert "comple-\ntion" in passage  # stored text: exactly as printed
    assert "completion" in search_text(passage) and "comple-" not in search_text(passage)


def test_search_text_keeps_compounds_the_text_spells_with_a_hyphen() -> None:
    text = "Use the command-\nline tools; command-line options come first."
    assert search_text(text).startswith("Use the command-line tools")
    assert (
        search_text("infor-\nmation, Fig-\nure 3-\n4, X-\nRay")
        == "information, Figure 3-\n4, X-\nRay"
    )


def test_indexed_pdf_offsets_exact_and_dehyphenated_word_found(tmp_path: Path) -> None:
    path = two_column_pdf(tmp_path / "survey.pdf")
    embedder = KeywordEncoder()
    _, errors = index_paths(tmp_path / "index", embedder, path)
    assert errors == []
    retriever = open_retriever(tmp_path / "index", embedder)
    store = retriever.handle.current().store
    passages = list(store.iter_passages())
    assert passages
    for passage in passages:
        text = store.document_text(passage.document_id)
        assert text[passage.char_start : passage.char_end] == passage.text
        assert HEADER not in passage.text
    hits = retriever.search("completion", 3, Mode.LEXICAL).hits
    assert hits and "comple-\ntion" in hits[0].text
    assert hits[0].citation.page == 2 and hits[0].citation.pages == (2,)
    crossing = retriever.search("budget city council meeting", 1, Mode.LEXICAL).hits[0]
    assert crossing.citation.page == 3 and crossing.citation.pages == (3, 4)
    assert {box.page for box in crossing.citation.boxes} == {3, 4}


def test_passage_bounds_split_long_blocks_and_join_short_ones() -> None:
    sentence = "The survey team measured the berth depth again at low tide. "
    long_block = (sentence * 60).strip()  # about 3,600 characters, one block
    term = "buoyancy"
    text = f"Heading\n\n{long_block}\n\n{term}\n\nThe upward force on a hull."
    heading_end = len("Heading")
    block_start = heading_end + 2
    term_start = text.index(term)
    last_start = text.index("The upward")
    units = [
        Unit(0, heading_end, heading=True),
        Unit(block_start, block_start + len(long_block), heading=False),
        Unit(term_start, term_start + len(term), heading=False),
        Unit(last_start, len(text), heading=False),
    ]
    spans = passage_spans(text, units)
    assert all(end - start <= MAX_CHARS for start, end in spans)
    assert all(text[start:end] == text[start:end].strip() for start, end in spans)
    # Cut at sentence ends, and the short tail (a lone term and its definition) joins
    # the passage before it instead of standing alone.
    assert all(text[start:end].endswith(".") for start, end in spans)
    assert spans[-1][1] == len(text) and term in text[spans[-1][0] : spans[-1][1]]
    assert sum(end - start for start, end in spans) >= len(long_block)
