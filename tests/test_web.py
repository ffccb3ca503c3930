"""The web chat page in real headless Chromium: ask, see the answer, open a citation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api_support import TREATY_ANSWER, FakeExtractor, live_server, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,  # starts a browser and a live server
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium "
        "chromium-driver; .ci/run installs it)",
    ),
]


def test_question_shows_answer_and_highlighted_citation(tmp_path: Path, corpus_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    app = make_app(tmp_path / "idx", FakeExtractor([TREATY_ANSWER]))
    treaty = (corpus_dir / "treaty.md").read_text(encoding="utf-8")
    with live_server(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, wait_until="domcontentloaded")
            page.fill("#question", "Who signed the treaty?")
            page.click("#ask")
            page.wait_for_selector("#answer a.cite", timeout=15_000)
            assert page.inner_text("#answer .answer-text") == TREATY_ANSWER
            assert page.locator("#passages li").count() >= 2
            # The ranked list marks the answer inside its passage too.
            assert TREATY_ANSWER in page.locator("#passages mark").all_inner_texts()

            page.click("#answer a.cite")
            mark = page.wait_for_selector("#source-text mark", timeout=15_000)
            assert mark is not None and mark.inner_text() == TREATY_ANSWER
            paragraph = page.inner_text("#source-text")
            assert "signed by Mayor Alice Brown and Chief Tom Reed" in paragraph
            assert paragraph.strip() in treaty
            assert page.inner_text("#source-title") == "The Harbour Treaty"

            # A passage without an answer span: its whole paragraph is the cited span.
            other = page.locator("#passages li", has_not=page.locator("mark")).first
            passage_text = other.locator(".passage-text").inner_text()
            other.locator("a.cite").click()
            page.wait_for_function(
                "t => document.querySelector('#source-text mark')?.textContent === t",
                arg=passage_text,
                timeout=15_000,
            )
            assert not errors, errors
        finally:
            browser.close()
