"""Every per-file cost has a limit: characters, passages, nesting, stream reuse, time, memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docqa.server import create_app
from docqa.settings import Settings
from index.errors import ExtractionError, IngestCancelledError
from index.formats.extracted import Extracted, PageSpan
from index.formats.guards import check_extracted, html_depth
from index.formats.sandbox import ExtractLimits, extract_bounded
from index.lifecycle import generation as gen
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter
from index.passages.bounds import PassageLimits, bounded_paragraphs
from scripts.attack_cases import shared_stream_pdf
from tests.fakes import KeywordEncoder, SlowEncoder

LIMITS = ExtractLimits()


def _spans_ok(text: str, max_chars: int) -> list[str]:
    spans = bounded_paragraphs(text, max_chars)
    for span in spans:
        assert text[span.char_start : span.char_end] == span.text
        assert 0 < len(span.text) <= max_chars
    assert [s.number for s in spans] == list(range(len(spans)))
    return [s.text for s in spans]


def test_oversize_paragraphs_are_cut_at_sentence_ends_with_exact_offsets() -> None:
    sentence = "The keeper lit the “lamp” at dusk. "
    text = "Intro line.\n\n" + sentence * 40 + "\n\nTail."
    pieces = _spans_ok(text, 200)
    assert pieces[0] == "Intro line." and pieces[-1] == "Tail."
    middle = pieces[1:-1]
    assert len(middle) == len(sentence * 40) // 200 + 1
    assert all(p.endswith("dusk.") for p in middle)  # whole sentences, none cut inside
    chinese = "灯塔守护者每晚点灯。" * 100  # CJK sentence ends need no space
    assert all(p.endswith("。") for p in _spans_ok(chinese, 250))


def test_text_without_sentences_or_spaces_is_cut_in_windows() -> None:
    words = _spans_ok("word " * 1000, 300)
    assert all(not p.startswith(" ") and len(p) <= 300 for p in words)
    token = _spans_ok("x" * 10_000, 4_000)
    assert [len(p) for p in token] == [4_000, 4_000, 2_000]
    assert _spans_ok("short one.\n\nshort two.", 4_000) == ["short one.", "short two."]


def test_writer_caps_passages_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "many.txt").write_text("\n\n".join(f"line {i}" for i in range(50)), encoding="utf-8")
    (folder / "few.txt").write_text("One paragraph.\n\nTwo paragraphs.", encoding="utf-8")
    limits = PassageLimits(max_paragraph_chars=4_000, max_passages=20)
    with IndexWriter(tmp_path / "idx", KeywordEncoder(), limits=limits) as writer:
        errors = stage_paths(writer, discover([folder]), limits=LIMITS)
        report = writer.commit()
    assert [Path(e.path).name for e in errors] == ["many.txt"]
    assert "50 passages" in errors[0].reason and "DOCQA_MAX_FILE_PASSAGES" in errors[0].reason
    assert report.documents_total == 1 and report.passages_total == 2


class _BatchRecorder(KeywordEncoder):
    """Records the (count, longest) of every passage batch it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int, int]] = []  # texts, batch_size, longest

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Any:
        self.calls.append((len(texts), batch_size, max(len(t) for t in texts)))
        return super().encode_passages(texts, batch_size)


def test_long_passages_embed_in_small_batches_and_checked_chunks(tmp_path: Path) -> None:
    """A batch's token budget counts a long passage whole (e5 embeds every window of it),
    and with a budget to check, chunks of long passages stay near two batches' worth of
    characters, so a spent budget stops the upload within seconds."""
    folder = tmp_path / "docs"
    folder.mkdir()
    words = " ".join(f"word{i}." for i in range(600))  # about 4,500 characters
    paragraphs = [f"Part {i}: {words}" for i in range(40)]  # distinct: each is embedded
    (folder / "long.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    limits = PassageLimits(max_paragraph_chars=5_000, max_batch_tokens=4_096)
    encoder = _BatchRecorder()
    checks: list[int] = []
    with IndexWriter(tmp_path / "idx", encoder, limits=limits, embed_chunk=32) as writer:
        stage_paths(writer, discover([folder]), limits=LIMITS)
        writer.commit(check=lambda: checks.append(1))
    passage_calls = [c for c in encoder.calls if c[2] > 1_000]
    assert passage_calls
    for texts, batch_size, longest in passage_calls:
        assert batch_size * (longest // 3) <= 4_096 + longest // 3  # one long text at least
        assert texts * longest <= 4_096 * 3 * 2 + longest  # a chunk: about two batches
    assert len(checks) >= 40 // 6


def test_pdf_pages_sharing_one_content_stream_are_limited(tmp_path: Path) -> None:
    pdf = tmp_path / "shared.pdf"
    pdf.write_bytes(shared_stream_pdf(0, pages=5))  # one line of text per page
    with pytest.raises(ExtractionError, match="5 pages share one content stream.*REUSE"):
        extract_bounded(pdf, ExtractLimits(pdf_max_stream_reuse=4))
    allowed = extract_bounded(pdf, ExtractLimits(pdf_max_stream_reuse=5))
    assert allowed.text.count("Shared lighthouse text") == 5 and len(allowed.pages) == 5


def test_deep_html_is_refused_before_parsing(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text("<div>" * 100_000 + "deep text" + "</div>" * 100_000, encoding="utf-8")
    with pytest.raises(ExtractionError, match="deeper than the limit of 512.*MAX_HTML_DEPTH"):
        extract_bounded(page, LIMITS)
    # Implicitly closed and void elements do not nest; raw-text elements hold no tags.
    flat = b"<ul>" + b"<li>item<br><p>para" * 5_000 + b"</ul><script>" + b"<div>" * 600
    assert html_depth(flat, 512) == 1  # only <ul> nests; <script> holds raw text
    assert html_depth(b"<a" * 100_000, 512) == 0  # unterminated tags cost little


def test_extraction_limits_name_their_setting(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    big.write_text("<p>" + "word " * 400_000 + "</p>", encoding="utf-8")
    with pytest.raises(ExtractionError, match="DOCQA_MAX_FILE_CHARS"):
        extract_bounded(big, ExtractLimits(max_file_chars=100_000))
    with pytest.raises(ExtractionError, match="longer than the limit of 0.01 s"):
        extract_bounded(big, ExtractLimits(timeout_s=0.01))
    huge = tmp_path / "huge.html"
    huge.write_text("<p>" + "word " * 1_000_000 + "</p>", encoding="utf-8")
    with pytest.raises(ExtractionError, match="DOCQA_EXTRACT_MEMORY_MB"):
        extract_bounded(huge, ExtractLimits(memory_mb=64, max_file_chars=10_000_000))
    with pytest.raises(IngestCancelledError):
        extract_bounded(big, LIMITS, cancelled=lambda: True)
    page = Extracted("x" * 50, pages=(PageSpan(1, 0, 10), PageSpan(2, 10, 50)))
    with pytest.raises(ExtractionError, match="page 2 holds 40 characters.*MAX_PAGE_CHARS"):
        check_extracted(big, page, 1_000, 30)
    # The same file within the limits extracts, in a worker process.
    assert len(extract_bounded(big, LIMITS).text) == len("word " * 400_000) - 1


def test_one_over_budget_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "deep.html").write_text("<div>" * 2_000 + "</div>" * 2_000, encoding="utf-8")
    (folder / "good.txt").write_text("A good lighthouse file.", encoding="utf-8")
    with IndexWriter(tmp_path / "idx", KeywordEncoder()) as writer:
        errors = stage_paths(writer, discover([folder]), limits=LIMITS)
        report = writer.commit()
    assert [(Path(e.path).name, "MAX_HTML_DEPTH" in e.reason) for e in errors] == [
        ("deep.html", True)
    ]
    assert report.documents_total == 1


def test_upload_budget_counts_reading_and_embedding_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose extraction uses up the per-file budget is refused, however fast it
    embeds: the budget bounds the upload's whole work, not each step on its own."""
    import time

    import api.uploads

    real = api.uploads.load_document

    def slow_reading(*args: object, **kwargs: object) -> object:
        time.sleep(0.5)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api.uploads, "load_document", slow_reading)

    def upload(budget_s: float, index_dir: Path) -> Any:
        settings = Settings(index_dir=index_dir, answers=False, upload_timeout_s=budget_s)
        app = create_app(
            settings,
            encoder_factory=lambda _s: [KeywordEncoder()],
            extractor_factory=lambda _s: None,
        )
        with TestClient(app) as client:
            files = [("files", ("a.txt", b"Lighthouses.", "text/plain"))]
            return client.post("/v1/documents", files=files)

    over = upload(0.4, tmp_path / "idx")
    assert over.status_code == 422, over.text
    assert over.json()["error"]["code"] == "over_budget"
    assert gen.current_generation(tmp_path / "idx") is None
    assert upload(5.0, tmp_path / "idx2").status_code == 201


def test_upload_over_its_embedding_budget_commits_nothing(tmp_path: Path) -> None:
    settings = Settings(
        index_dir=tmp_path / "idx", answers=False, upload_timeout_s=0.3, batch_size=2
    )
    app = create_app(
        settings,
        encoder_factory=lambda _s: [SlowEncoder(0.05)],
        extractor_factory=lambda _s: None,
    )
    text = "\n\n".join(f"Paragraph {i} about lighthouses." for i in range(60)).encode()
    with TestClient(app) as client:
        slow = client.post("/v1/documents", files=[("files", ("slow.txt", text, "text/plain"))])
        assert slow.status_code == 422, slow.text
        error = slow.json()["error"]
        assert error["code"] == "over_budget" and "DOCQA_UPLOAD_TIMEOUT_S" in error["message"]
        assert error["message"].startswith("slow.txt: ")  # the file is named
        assert gen.current_generation(tmp_path / "idx") is None  # nothing committed
        assert not list((tmp_path / "uploads").iterdir())  # no file, no staging left
        small = client.post("/v1/documents", files=[("files", ("ok.txt", b"Fine.", "text/plain"))])
        assert small.status_code == 201, small.text  # the writer was released


def test_upload_of_a_file_over_a_limit_names_file_and_limit(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "idx", answers=False, max_html_depth=64)
    app = create_app(
        settings, encoder_factory=lambda _s: [KeywordEncoder()], extractor_factory=lambda _s: None
    )
    deep = ("<div>" * 100 + "x" + "</div>" * 100).encode()
    with TestClient(app) as client:
        response = client.post("/v1/documents", files=[("files", ("deep.html", deep, "text/html"))])
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.startswith("deep.html: ") and "DOCQA_MAX_HTML_DEPTH" in message
