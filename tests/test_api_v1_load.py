"""scripts/load_test.py against a live server (a short, bounded run) and the load corpus."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.api_support import live_server, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("client", ["raw", "httpx"])
def test_load_test_reports_throughput_and_percentiles(
    tmp_path: Path, corpus_dir: Path, client: str
) -> None:
    load_test = _script("load_test")
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"id": "1", "text": "Who signed the treaty?"}\n{"id": "2", "text": "green tea"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    with live_server(make_app(tmp_path / "idx")) as url:
        started = time.monotonic()
        load_test.main(
            [url, "--clients", "2", "--seconds", "1", "--warmup", "0", "--quiet",
             "--queries", str(queries), "--json", str(out), "--client", client]
        )  # fmt: skip
        assert time.monotonic() - started < 15  # it stops by itself
    report = json.loads(out.read_text())
    assert report["ok"] > 0 and report["errors"] == 0 and report["index_passages"] == 6
    assert report["requests"] == report["ok"] and report["throughput_rps"] > 0
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"] <= report["max_ms"]


@pytest.mark.parametrize("client", ["raw", "httpx"])
def test_load_test_counts_errors(tmp_path: Path, client: str) -> None:
    load_test = _script("load_test")
    with live_server(make_app(tmp_path / "none")) as url:  # no index: every search is 503
        report = load_test.main([url, "--clients", "1", "--seconds", "0.5", "--warmup", "0",
                                 "--quiet", "--client", client])  # fmt: skip
    assert report.ok == 0 and report.errors > 0
    assert report.error_kinds == {"HTTP 503": report.errors}


def test_load_test_refuses_unbounded_runs() -> None:
    load_test = _script("load_test")
    with pytest.raises(SystemExit):
        load_test.parse_args(["--seconds", "100000"])
    with pytest.raises(SystemExit):
        load_test.parse_args(["--clients", "0"])


def test_load_corpus_reaches_the_target(tmp_path: Path) -> None:
    load_corpus = _script("load_corpus")
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": "a", "title": "Alpha", "text": "One fact. Two facts. Three facts here."},
        {"id": "b", "title": "Beta", "text": "Single sentence only."},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    grouped = load_corpus.passages(corpus, 4)
    assert grouped == {  # paragraphs first, then two-sentence windows until the target
        "Alpha": [
            "One fact. Two facts. Three facts here.",
            "One fact. Two facts.",
            "Two facts. Three facts here.",
        ],
        "Beta": ["Single sentence only."],
    }


def test_raw_client_reconnects_when_the_server_closes_keep_alive() -> None:
    """A server that closes the connection after every response (as an idle keep-alive
    timeout does) costs no errors: the raw client retries once on a new connection."""
    import asyncio

    load_test = _script("load_test")
    served: list[bytes] = []

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        served.append(await reader.readexactly(length))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    async def scenario() -> list[int]:
        server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = load_test.RawConnection(f"http://127.0.0.1:{port}", {}, 5.0)
        try:
            return [await connection.post("/v1/search", {"query": q}) for q in ("a", "b", "c")]
        finally:
            await connection.close()
            server.close()

    assert asyncio.run(scenario()) == [200, 200, 200]
    assert [json.loads(body)["query"] for body in served] == ["a", "b", "c"]


def test_raw_client_refuses_https() -> None:
    load_test = _script("load_test")
    with pytest.raises(SystemExit, match="http://"):
        load_test.RawConnection("https://example.invalid", {}, 1.0)
