"""Helpers for the API tests: a fake answer extractor, app factories, a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from docqa.server import create_app
from docqa.settings import Settings
from retriever.answer.types import AnswerExtractor
from tests.fakes import KeywordEncoder
from tests.helpers import STORE_SETTINGS


@dataclass(frozen=True)
class FakeSpan:
    text: str
    char_start: int
    char_end: int


@dataclass(frozen=True)
class FakeSpans:
    answer: FakeSpan | None
    sentence: FakeSpan | None
    score: float
    logit: float = 0.0
    extra: tuple[FakeSpan, ...] = ()


class FakeExtractor:
    """Answers with the first of ``targets`` found in a passage (offsets in the passage)."""

    def __init__(self, targets: Sequence[str], delay: float = 0.0) -> None:
        self.targets = list(targets)
        self.delay = delay
        self.calls: list[str] = []

    def extract(self, question: str, passage: str) -> FakeSpans:
        self.calls.append(passage)
        if self.delay:
            time.sleep(self.delay)
        for target in self.targets:
            start = passage.find(target)
            if start >= 0:
                end = start + len(target)
                sentence_end = passage.find(".", end)
                sentence_end = len(passage) if sentence_end < 0 else sentence_end + 1
                return FakeSpans(
                    FakeSpan(target, start, end),
                    FakeSpan(passage[:sentence_end], 0, sentence_end),
                    0.9,
                )
        return FakeSpans(None, None, 0.0)


TREATY_ANSWER = "Mayor Alice Brown"


def make_app(
    index_dir: Path, extractor: AnswerExtractor | None = None, **settings: object
) -> FastAPI:
    """The app over ``index_dir`` with the keyword encoder and the given extractor."""
    # The vector store the ``store`` fixture chose (none: the FAISS default).
    chosen = {**STORE_SETTINGS, **settings}
    config = Settings(index_dir=index_dir, **chosen)  # type: ignore[arg-type]
    return create_app(
        config,
        encoder_factory=lambda _s: [KeywordEncoder()],
        extractor_factory=lambda _s: extractor,
    )


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
