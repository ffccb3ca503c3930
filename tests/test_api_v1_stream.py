"""A client that drops an answer stream midway costs (almost) nothing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.api_support import FakeExtractor, live_server, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths


def test_disconnect_mid_stream_stops_the_work(tmp_path: Path, corpus_dir: Path) -> None:
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    extractor = FakeExtractor(["Alice Brown"], delay=0.3)
    with live_server(make_app(tmp_path / "idx", extractor)) as url:
        with httpx.Client(base_url=url, timeout=10) as client:
            body = {"query": "tea treaty harbour hills", "top_k": 6, "stream": True}
            with client.stream("POST", "/v1/ask", json=body) as response:
                assert response.status_code == 200
                first = next(response.iter_lines())
                assert first == "event: passages"
            # Leaving the block closed the connection after the first event.
            time.sleep(6 * 0.3 + 0.5)  # long enough to read all six passages
            assert len(extractor.calls) <= 2, "the server kept reading for a gone client"
            calls = len(extractor.calls)
            again = client.post("/v1/ask", json={**body, "stream": False})
            assert again.status_code == 200
            assert len(extractor.calls) == calls + 6
            metrics = client.get("/metrics").text
            assert 'route="/v1/ask",status="200"} 2.0' in metrics
