"""SIGTERM during an upload: the server exits at once, the index stays as committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from index.lifecycle import generation as gen
from scripts.common import free_port
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

ROOT = Path(__file__).resolve().parents[1]
DELAY = 0.05  # seconds per embedded text in the server
PARAGRAPHS = 400  # an upload of about PARAGRAPHS * DELAY * 2 s of embedding


@pytest.mark.slow
def test_sigterm_during_an_upload_stops_the_server_promptly(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("A lighthouse stood here.", encoding="utf-8")
    index_dir = tmp_path / "idx"
    index_paths(index_dir, KeywordEncoder(), docs)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.api_worker", str(index_dir), str(port), str(DELAY)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.1)
        text = "\n\n".join(f"Paragraph {i} about harbour number {i}." for i in range(PARAGRAPHS))
        outcome: dict[str, object] = {}

        def upload() -> None:
            try:
                files = [("files", ("big.txt", text.encode(), "text/plain"))]
                outcome["response"] = httpx.post(f"{url}/v1/documents", files=files, timeout=120)
            except httpx.TransportError as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=upload)
        thread.start()
        time.sleep(1.5)  # the upload is embedding by now (it needs ~40 s in all)
        assert thread.is_alive()
        signalled = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=PARAGRAPHS * DELAY * 2)
        took = time.perf_counter() - signalled
        thread.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        _, stderr = server.communicate(timeout=30)
    print(f"SIGTERM to exit during an upload: {took:.2f} s")
    # Relative, not absolute: far sooner than the upload's own embedding would take.
    assert took < PARAGRAPHS * DELAY / 4, stderr
    # uvicorn shuts down gracefully, then re-raises the signal it caught (default action).
    assert server.returncode in {0, -signal.SIGTERM}, stderr
    assert "Traceback" not in stderr, stderr
    response = outcome.get("response")
    if isinstance(response, httpx.Response):  # answered before the connection closed
        assert response.status_code == 503 and response.json()["error"]["code"] == "cancelled"
    assert gen.current_generation(index_dir) == 1  # the last committed generation
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".staging")]
    assert not list((tmp_path / "uploads").iterdir())  # no file, no .incoming-* left
    with gen.writer_lock(index_dir):  # the writer lock is free
        pass
