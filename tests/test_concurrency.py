"""The API keeps answering while another process ingests, and follows its commits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from docqa.server import create_app
from docqa.settings import Settings
from tests.fakes import KeywordEncoder
from tests.test_crash_safety import run_worker, write_version


@pytest.mark.slow  # a second process ingests while queries run
def test_queries_during_ingest_have_no_errors(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    folder.mkdir()
    write_version(folder, "a")
    run_worker(index_dir, folder, None)
    done = threading.Event()
    failures: list[BaseException] = []

    def ingest_loop() -> None:
        try:
            for version in ("b", "a", "b", "a"):
                write_version(folder, version)
                run_worker(index_dir, folder, None)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            done.set()

    app = create_app(Settings(index_dir=index_dir), encoder_factory=lambda _s: [KeywordEncoder()])
    statuses: list[int] = []
    generations: set[int] = set()
    with TestClient(app) as client:
        writer = threading.Thread(target=ingest_loop)
        writer.start()
        while not done.is_set() or len(statuses) < 50:
            response = client.post("/search", json={"query": "shared paragraph 12", "top_k": 3})
            statuses.append(response.status_code)
            if response.status_code == 200:
                body = response.json()
                generations.add(body["generation"])
                assert "Shared paragraph 12" in body["results"][0]["text"]
        writer.join()
        final = client.get("/health").json()
    assert not failures, failures
    assert statuses.count(200) == len(statuses), {s for s in statuses if s != 200}
    assert len(generations) >= 3  # the reader switched generations while querying
    assert final["generation"] == max(generations) == 5
