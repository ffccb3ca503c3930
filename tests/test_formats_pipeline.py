"""Every format through the whole pipeline: pages and sections in citations, exact offsets."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from docqa.server import create_app
from docqa.settings import Settings
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever
from tests.test_formats import PAGE_TWO, _docx, _pdf


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    _pdf(folder / "report.pdf", [["Harbour report", "First page about cranes."], [PAGE_TWO]])
    _docx(folder / "survey.docx")
    (folder / "page.html").write_text(
        "<html><head><title>Tide tables</title><script>var tracker = 1;</script></head>"
        "<body><nav>Home | About</nav><main><h1>Tide tables</h1>"
        "<p>High tide at the pier is at 6:40 in the morning.</p></main>"
        "<footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    (folder / "notes.md").write_text("# Notes\n\nThe ferry leaves at noon.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage that is not a pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "broken.html").write_bytes(b"\x00\x01\x02\xff binary")
    (folder / "broken.txt").write_bytes("caf\xe9".encode("latin-1"))
    return folder


def test_mixed_folder_indexes_good_files_and_reports_bad(tmp_path: Path) -> None:
    encoder = KeywordEncoder()
    report, errors = index_paths(tmp_path / "idx", encoder, _folder(tmp_path))
    assert report.documents_total == 4
    assert sorted(Path(e.path).name for e in errors) == [
        "broken.docx",
        "broken.html",
        "broken.pdf",
        "broken.txt",
    ]
    assert all(e.reason for e in errors)

    retriever = open_retriever(tmp_path / "idx", encoder)
    page_two_words = " ".join(PAGE_TWO.split()[:6])
    pdf_hit = retriever.search(page_two_words, 1, Mode.LEXICAL).hits[0]
    assert pdf_hit.citation.source.endswith("report.pdf") and pdf_hit.citation.page == 2
    docx_hit = retriever.search("survey covered three regions", 1, Mode.LEXICAL).hits[0]
    assert docx_hit.citation.section == "Introduction"
    html_hits = retriever.search("tracker Home About Copyright", 10, Mode.LEXICAL).hits
    assert all("tracker" not in h.text and "Copyright" not in h.text for h in html_hits)

    app = create_app(
        Settings(index_dir=tmp_path / "idx"), encoder_factory=lambda _s: [KeywordEncoder()]
    )
    with TestClient(app) as client:
        for query in (page_two_words, "survey covered three regions", "high tide pier", "ferry"):
            body = client.post("/search", json={"query": query, "mode": "lexical"}).json()
            top = body["results"][0]
            doc = client.get(f"/documents/{top['citation']['document_id']}").json()
            assert doc["text"][top["char_start"] : top["char_end"]] == top["text"]
