"""The chat page in real headless Chromium (Debian's), at desktop and phone sizes.

The server is the real app over the sample corpus with the keyword encoder and a fake
span reader, so the page's behaviour is tested, not the models'.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docqa.cli import sample_corpus
from tests.api_support import FakeExtractor, FakeSpan, FakeSpans, live_server, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIGNER = "Mayor Elena Duarte"
WITNESS = "Priya Raman"
FIRST = "Who signed the agreement for Harbour City Council?"
FOLLOW_UP = "Who watched?"  # no word in common with its paragraph
WITNESS_PARAGRAPH = "Transport minister Priya Raman witnessed the signing"
WAIT = 15_000
BOTH = ("Elena Duarte", "Samuel Okafor")  # "both" in a question: the reader gives two spans

pytestmark = [
    pytest.mark.slow,  # starts a browser and a live server
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium "
        "chromium-driver; .ci/run installs it)",
    ),
]


class QuestionExtractor(FakeExtractor):
    """The fake reader, with the target chosen by a word of the question; a question with
    "both" gets both signers (:data:`BOTH`) as answer spans where a passage names them."""

    def __init__(self, targets: dict[str, str], delay: float = 0.0) -> None:
        super().__init__([], delay)
        self.by_word = targets

    def extract(self, question: str, passage: str) -> FakeSpans:
        self.targets = [t for word, t in self.by_word.items() if word in question.lower()]
        found = super().extract(question, passage)
        if "both" not in question.lower() or not all(name in passage for name in BOTH):
            return found
        first, second = (FakeSpan(n, passage.index(n), passage.index(n) + len(n)) for n in BOTH)
        return FakeSpans(first, FakeSpan(passage, 0, len(passage)), 0.9, extra=(second,))


READER = {"signed": SIGNER, "watched": WITNESS, "archive": "/srv/archive", "lighthouse": "red"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    docs = root / "docs"
    shutil.copytree(sample_corpus(), docs)
    # A long unbroken path-like line and non-breaking spaces: the phone layout must wrap them.
    (docs / "long-lines.txt").write_text(
        "Archive notes\n\nThe archive lives at /srv/archive/very/long/path/with/many/parts/"
        "that/never/breaks/anywhere/at/all/in/the/middle/of/the/line.txt and the\u00a0phrase"
        "\u00a0with\u00a0non\u00a0breaking\u00a0spaces\u00a0keeps\u00a0going\u00a0for\u00a0"
        "a\u00a0long\u00a0while\u00a0on\u00a0one\u00a0line.\n",
        encoding="utf-8",
    )
    index_paths(root / "idx", KeywordEncoder(), docs)
    return root / "idx"


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[str]:
    # A short delay per passage: the stream's passages arrive visibly before the answer.
    reader = QuestionExtractor(READER, delay=0.1)
    with live_server(make_app(index_dir, reader)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _page(browser: Any, viewport: dict[str, int], errors: list[str], **options: Any) -> Any:
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page


def _ask(page: Any, question: str) -> Any:
    turns = page.locator("#thread > li")
    before = turns.count()
    page.fill("#question", question)
    page.click("#ask")
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('#thread > li').length === n "
            "&& document.querySelector('#chat').getAttribute('aria-busy') === 'false'",
            arg=before + 1,
            timeout=WAIT,
        )
    except Exception:
        print("THREAD", before, page.inner_text("body"))
        raise
    return turns.nth(before)


def _top3(turn: Any) -> list[str]:
    """Texts of the turn's passages ranked 1 to 3 (the list may be folded away)."""
    return [
        turn.locator(f".passages li[data-rank='{rank}'] .passage-text").text_content() or ""
        for rank in (1, 2, 3)
        if turn.locator(f".passages li[data-rank='{rank}']").count()
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_two_turn_conversation_streams_and_survives_reload(
    browser: Any, server: str, viewport: dict[str, int]
) -> None:
    errors: list[str] = []
    page = _page(browser, viewport, errors)
    page.goto(server, wait_until="domcontentloaded")
    page.fill("#question", FIRST)
    page.click("#ask")
    # Streaming: the passages are on the page while the answer is still being read.
    page.wait_for_selector("#thread > li .passages", timeout=WAIT)
    assert page.get_attribute("#chat", "aria-busy") == "true"
    assert page.locator("#thread > li .answer-text").count() == 0
    page.wait_for_selector("#thread > li .answer-text", timeout=WAIT)
    assert page.inner_text("#thread > li .answer-text") == SIGNER
    page.wait_for_function("document.querySelector('#chat').ariaBusy === 'false'")
    second = _ask(page, FOLLOW_UP)
    assert second.locator(".answer-text").inner_text() == WITNESS
    # The follow-up found its paragraph among the top three (it shares no word with it).
    assert any(WITNESS_PARAGRAPH in t for t in _top3(second))
    marker = page.locator("#thread > li").first.locator(".answer .cite")
    assert marker.get_attribute("aria-label") == (
        "Source 1: Harbour City and Northwind Rail sign regional transit agreement"
    )
    if viewport is PHONE:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width == page.evaluate("document.documentElement.clientWidth") == 390
    page.reload(wait_until="domcontentloaded")
    questions = page.locator("#thread .question").all_inner_texts()
    assert questions == [FIRST, FOLLOW_UP]
    assert page.locator("#thread .answer-text").all_inner_texts()[0] == SIGNER
    page.click("#new-chat")
    assert page.locator("#thread > li").count() == 0
    assert not errors, errors


def test_follow_up_alone_misses_its_paragraph(browser: Any, server: str) -> None:
    """The control for the test above: asked first, the follow-up finds nothing."""
    page = _page(browser, DESKTOP, [])
    page.goto(server, wait_until="domcontentloaded")
    turn = _ask(page, FOLLOW_UP)
    assert not any(WITNESS_PARAGRAPH in t for t in _top3(turn))
    assert "could not find the answer" in turn.locator(".answer").inner_text()


def test_phone_citation_opens_in_context_in_view(browser: Any, server: str) -> None:
    errors: list[str] = []
    page = _page(browser, PHONE, errors, has_touch=True, is_mobile=True)
    page.goto(server, wait_until="domcontentloaded")
    _ask(page, "Where is the archive kept? /srv/archive")
    turn = _ask(page, FIRST)
    # Long unbroken lines and non-breaking spaces wrap: no sideways scrolling at 390 px.
    turn.locator(".passages summary").tap()
    page.locator("#thread > li").first.locator(".passages summary").tap()
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    turn.locator(".answer .cite").tap()
    cited = page.wait_for_selector("#source-text p.cited mark", timeout=WAIT)
    assert cited is not None and cited.inner_text() == SIGNER
    assert page.evaluate("document.activeElement.classList.contains('cited')")
    box = page.locator("#source-text p.cited").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + 20 <= PHONE["height"]
    # In its document context: the neighbouring paragraphs are shown too.
    assert page.locator("#source-text p").count() >= 3
    assert "/" not in page.inner_text("#source-meta")  # never a server path
    page.keyboard.press("Escape")
    assert page.locator("#source").is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    assert not errors, errors


def test_two_answer_spans_are_named_and_marked(browser: Any, server: str) -> None:
    errors: list[str] = []
    page = _page(browser, DESKTOP, errors)
    page.goto(server, wait_until="domcontentloaded")
    turn = _ask(page, "Who signed it for both sides?")
    assert turn.locator(".answer-text").inner_text() == "Elena Duarte and Samuel Okafor"
    # Only the cited passage has marks: both answers in it (the list may be folded away).
    assert turn.locator(".passages .passage-text mark").all_text_contents() == list(BOTH)
    turn.locator(".answer .cite").click()
    page.wait_for_selector("#source-text p.cited mark", timeout=WAIT)
    assert page.locator("#source-text p.cited mark").all_inner_texts() == list(BOTH)
    assert not errors, errors


def test_off_topic_question_shows_not_found(browser: Any, server: str) -> None:
    page = _page(browser, DESKTOP, [])
    page.goto(server, wait_until="domcontentloaded")
    turn = _ask(page, "What is the capital of Peru?")
    assert "could not find the answer in the indexed documents" in turn.inner_text()
    assert turn.locator(".answer-text").count() == 0
    assert turn.locator(".passages li").count() >= 1  # the closest ones, still listed


def test_stopped_server_shows_a_distinct_error(browser: Any, index_dir: Path) -> None:
    page = _page(browser, DESKTOP, [])
    with live_server(make_app(index_dir, QuestionExtractor(READER))) as url:
        page.goto(url, wait_until="domcontentloaded")
    page.fill("#question", FIRST)
    page.click("#ask")
    error = page.wait_for_selector("#error:not([hidden])", timeout=WAIT)
    assert error is not None and "Can't reach the docqa server" in error.inner_text()
    assert error.get_attribute("role") == "alert"
    assert page.locator("#thread .turn-error").count() == 1
    assert page.locator("#thread .answer").count() == 0


def test_upload_then_delete(browser: Any, tmp_path: Path, index_dir: Path) -> None:
    work = tmp_path / "idx"
    shutil.copytree(index_dir, work)
    note = tmp_path / "lighthouse.txt"
    note.write_text(
        "The Old Lighthouse\n\nThe old lighthouse was painted red in 1950.\n", encoding="utf-8"
    )
    page = _page(browser, DESKTOP, [])
    with live_server(make_app(work, QuestionExtractor(READER))) as url:
        page.goto(url, wait_until="domcontentloaded")
        page.click("#docs-toggle")
        page.wait_for_selector("#doc-list li", timeout=WAIT)
        page.set_input_files("#files", str(note))
        page.wait_for_selector("#doc-list li:has-text('The Old Lighthouse')", timeout=WAIT)
        turn = _ask(page, "What colour was the old lighthouse painted?")
        assert turn.locator(".answer-text").inner_text() == "red"
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[aria-label='Delete The Old Lighthouse']")
        page.wait_for_selector(
            "#doc-list li:has-text('The Old Lighthouse')", state="detached", timeout=WAIT
        )
        assert "Deleted The Old Lighthouse" in page.inner_text("#docs-status")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(browser: Any, server: str, scheme: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page = _page(browser, PHONE, [], color_scheme=scheme)
    page.goto(server, wait_until="domcontentloaded")
    turn = _ask(page, FIRST)
    turn.locator(".passages summary").click()
    turn.locator(".answer .cite").click()
    page.wait_for_selector("#source-text p.cited", timeout=WAIT)
    serious = _serious(Axe().run(page).response)
    page.keyboard.press("Escape")
    page.click("#docs-toggle")
    page.wait_for_selector("#doc-list li", timeout=WAIT)
    serious += _serious(Axe().run(page).response)
    assert serious == []


def _serious(response: dict[str, Any]) -> list[tuple[str, str, list[Any]]]:
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]])
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# --- the page against a scripted /v1/ask stream (passages the test chooses) -------------------

# A heading line, then text; the emoji is two UTF-16 units but one code point (the
# server's offsets count code points).
FARES = "## Fares 🎫 ##\nA day ticket costs €4 on every line."


def _hit(rank: int, text: str, relevance: float | None, start: int, **cite: Any) -> dict[str, Any]:
    citation = {
        "document_id": "transit-md",
        "title": "Transit guide",
        "source": "transit.md",
        "paragraph": rank,
        "char_start": start,
        "char_end": start + len(text),
        "page": None,
        "section": "Fares",
        "pages": [],
        "boxes": [],
        **cite,
    }
    return {
        "rank": rank,
        "score": 1.0 / rank,
        "relevance": relevance,
        "passage_id": f"p{rank}",
        "text": text,
        "char_start": start,
        "char_end": start + len(text),
        "citation": citation,
        "answer": None,
        "sentence": None,
    }


# Rank 2 is a heading on its own: the list leaves it out, so ranks 1, 3, 4, 5 show as 1-4.
HITS = [
    _hit(1, "Buses run every ten minutes in the centre.", 0.12, 100),
    _hit(2, "# Transit guide", None, 0, section="Transit guide"),
    _hit(3, "Trams stop at midnight on weekdays.", 0.034, 200),
    _hit(4, FARES, 0.871, 300),
    _hit(5, "Bicycles ride free on trains after 19:00.", 0.5, 400),
]


def _stream(hits: list[dict[str, Any]], cited: int, spans: list[tuple[int, int]]) -> str:
    """An SSE body as /v1/ask streams it; the answer cites rank ``cited``."""
    hit = hits[cited - 1]
    base, text = hit["char_start"], hit["text"]
    outs = [
        {"text": text[a - base : b - base], "char_start": a, "char_end": b, "boxes": []}
        for a, b in spans
    ]
    answer = {
        **outs[0],
        "kind": "extracted",
        "fallback": False,
        "score": 0.9,
        "citation": cited,
        "document_id": hit["citation"]["document_id"],
        "spans": outs,
    }
    events = [
        (
            "passages",
            {
                "query": "q",
                "search_query": "q",
                "mode": "hybrid",
                "generation": 1,
                "passages": hits,
            },
        ),
        (
            "answer",
            {
                "found": True,
                "answer": answer,
                "spans": [{"rank": h["rank"], "answer": None, "sentence": None} for h in hits],
            },
        ),
        ("done", {"took_ms": 1.0}),
    ]
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def _scripted(browser: Any, server: str, body: str, errors: list[str]) -> Any:
    page = _page(browser, DESKTOP, errors)
    page.route(
        "**/v1/ask",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body),
    )
    context = {
        "document_id": "transit-md",
        "title": "Transit guide",
        "source": "transit.md",
        "around": 4,
        "passages": [
            {
                "paragraph": h["citation"]["paragraph"],
                "char_start": h["char_start"],
                "char_end": h["char_end"],
                "text": h["text"],
                "section": None,
                "page": None,
            }
            for h in sorted(HITS, key=lambda h: h["char_start"])
        ],
    }
    page.route(
        "**/v1/documents/transit-md/passages*",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(context)
        ),
    )
    page.goto(server, wait_until="domcontentloaded")
    return page


def test_hidden_heading_keeps_numbers_consecutive_and_citations_right(
    browser: Any, server: str
) -> None:
    errors: list[str] = []
    fares = (FARES.index("€4") + 300, FARES.index("€4") + 302)
    page = _scripted(browser, server, _stream(HITS, 4, [fares]), errors)
    turn = _ask(page, "How much is a day ticket?")
    items = turn.locator(".passages li")
    assert items.locator(".cite").all_text_contents() == ["1", "2", "3", "4"]
    assert [items.nth(i).get_attribute("data-rank") for i in range(4)] == ["1", "3", "4", "5"]
    assert "Passages (4)" in turn.locator(".passages summary").inner_text()
    # The answer's marker carries the number its passage shows in the list, not its rank.
    marker = turn.locator(".answer .cite")
    assert marker.inner_text() == "3"
    assert marker.get_attribute("aria-label") == "Source 3: Transit guide"
    listed = turn.locator(".passages li:has(.cite:text-is('3'))")
    assert listed.locator(".passage-text mark").all_text_contents() == ["€4"]
    marker.hover()
    assert "A day ticket costs €4" in page.inner_text("#preview")
    assert not errors, errors


def test_cited_heading_is_listed_and_numbered(browser: Any, server: str) -> None:
    """A heading passage the answer cites is shown: numbers then follow the ranks."""
    page = _scripted(browser, server, _stream(HITS, 2, [(2, 9)]), [])
    turn = _ask(page, "What is the guide called?")
    assert turn.locator(".passages li .cite").all_text_contents() == ["1", "2", "3", "4", "5"]
    assert turn.locator(".answer .cite").inner_text() == "2"
    cited = turn.locator(".passages li[data-rank='2'] .passage-text")
    assert cited.text_content() == "Transit guide"  # no Markdown syntax (list folded away)
    assert cited.locator("mark").all_text_contents() == ["Transit"]


def test_passages_show_relevance_not_score(browser: Any, server: str) -> None:
    page = _scripted(browser, server, _stream(HITS, 4, [(300 + 12, 300 + 23)]), [])
    turn = _ask(page, "How much is a day ticket?")
    turn.locator(".passages summary").click()  # unfold the list: inner texts are shown ones
    heads = turn.locator(".passages .passage-head")
    labels = [heads.nth(i).locator(".relevance").all_text_contents() for i in range(4)]
    assert labels == [
        ["relevance 0.12"],
        ["relevance 0.03"],
        ["relevance 0.87"],
        ["relevance 0.50"],
    ]
    shown = heads.all_inner_texts()
    assert "relevance 0.87" in shown[2] and not [t for t in shown if "score" in t], shown
    title = heads.nth(2).locator(".relevance").get_attribute("title") or ""
    assert "ranking score 0.250" in title
    # No relevance (no model for this index): nothing is shown, not the ranking score.
    page.unroute("**/v1/ask")
    bare = [{**h, "relevance": None} for h in HITS]
    page.route(
        "**/v1/ask",
        lambda route: route.fulfill(
            status=200, content_type="text/event-stream", body=_stream(bare, 4, [(312, 323)])
        ),
    )
    turn = _ask(page, "And a week ticket?")
    turn.locator(".passages summary").click()
    assert turn.locator(".relevance").count() == 0
    listed = turn.locator(".passages").inner_text()
    assert "Bicycles ride free" in listed and "score" not in listed


def test_markdown_headings_show_without_syntax_and_marks_keep_offsets(
    browser: Any, server: str
) -> None:
    errors: list[str] = []
    # One span covers the "## " syntax and the heading word, one the text after it.
    spans = [(300, 308), (300 + FARES.index("€4"), 300 + FARES.index("€4") + 2)]
    page = _scripted(browser, server, _stream(HITS, 4, spans), errors)
    turn = _ask(page, "How much is a day ticket?")
    turn.locator(".answer .cite").click()
    page.wait_for_selector("#source-text p.cited mark", timeout=WAIT)
    texts = page.locator("#source-text p").all_inner_texts()
    assert not [t for t in texts if "#" in t], texts
    cited = page.locator("#source-text p.cited")
    assert cited.locator("mark").all_text_contents() == ["Fares", "€4"]
    assert cited.locator(".md-heading").inner_text() == "Fares 🎫"
    assert cited.inner_text().replace("\n", " ").startswith("Fares 🎫 A day ticket costs €4")
    heading = page.locator("#source-text p[role='heading']")
    assert heading.all_inner_texts() == ["Transit guide"]
    assert heading.get_attribute("aria-level") == "3"
    assert not errors, errors


def test_markdown_document_opens_without_hashes(browser: Any, server: str) -> None:
    """The real sample .md document: its title heading shows as a heading, not "# ..."."""
    errors: list[str] = []
    page = _page(browser, DESKTOP, errors)
    page.goto(server, wait_until="domcontentloaded")
    turn = _ask(page, FIRST)
    turn.locator(".answer .cite").click()
    page.wait_for_selector("#source-text p.cited mark", timeout=WAIT)
    texts = page.locator("#source-text p").all_inner_texts()
    assert not [t for t in texts if t.lstrip().startswith("#")], texts
    heading = page.locator("#source-text p[role='heading']")
    assert heading.all_inner_texts() == [
        "Harbour City and Northwind Rail sign regional transit agreement"
    ]
    assert page.inner_text("#source-text p.cited mark") == SIGNER
    assert not errors, errors


def test_upload_refusals_are_shown_as_errors(browser: Any, tmp_path: Path, index_dir: Path) -> None:
    work = tmp_path / "idx"
    shutil.copytree(index_dir, work)
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ\x90\x00")
    big = tmp_path / "big.txt"
    big.write_text("word " * 2000, encoding="utf-8")
    fine = tmp_path / "fine.txt"
    fine.write_text("Fine notes\n\nThe ferry leaves at noon.\n", encoding="utf-8")
    page = _page(browser, DESKTOP, [])
    app = make_app(work, QuestionExtractor(READER), max_upload_bytes=4000)
    with live_server(app) as url:
        page.goto(url, wait_until="domcontentloaded")
        page.click("#docs-toggle")
        page.wait_for_selector("#doc-list li", timeout=WAIT)
        assert page.locator("#docs-error").is_hidden()
        # Each refusal (a 415 and a 413 here) in the error style, in the server's words.
        for file, words in (
            (program, "unsupported file type '.exe'"),
            (big, "larger than the limit of 4000 bytes"),
        ):
            page.set_input_files("#files", str(file))
            error = page.wait_for_selector("#docs-error:not([hidden])", timeout=WAIT)
            assert error is not None and error.get_attribute("role") == "alert"
            assert "error" in (error.get_attribute("class") or "")
            assert "The server refused the request" in error.inner_text()
            assert words in error.inner_text()
            assert "Uploading" not in page.inner_text("#docs-status")
            page.click("#docs-close")  # reopening lists the documents: the alert goes
            page.click("#docs-toggle")
            page.wait_for_selector("#docs-error", state="hidden", timeout=WAIT)
        page.set_input_files("#files", str(fine))  # a good upload: status, no alert
        page.wait_for_selector("#doc-list li:has-text('Fine notes')", timeout=WAIT)
        assert "Indexed Fine notes" in page.inner_text("#docs-status")
        assert page.locator("#docs-error").is_hidden()
