"""End to end with the real shipped model: the seed article, the CLI, the sample corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docqa.cli import app, sample_corpus
from index.encoders.base import SentenceTransformerEncoder
from retriever.types import Mode
from tests.helpers import index_paths, open_retriever
from tests.shared_data import SEED, needs_shared

pytestmark = pytest.mark.e2e
# (document, the signing paragraph's words, the document's title): the seed article from
# ../shared, and the sample corpus's own signing story, so the check runs in any clone.
WHO_SIGNED = [
    pytest.param(
        SEED,
        "represented both parties in the signing",
        "Lv Jiajin and His Team in Shanxi",
        id="seed",
        marks=needs_shared(SEED),
    ),
    pytest.param(
        sample_corpus() / "signing-ceremony.md",
        "Mayor Elena Duarte signed the agreement",
        "Harbour City and Northwind Rail sign",
        id="sample",
    ),
]


@pytest.mark.parametrize("mode", [Mode.DENSE, Mode.HYBRID])
@pytest.mark.parametrize(("document", "signing_words", "title"), WHO_SIGNED)
def test_who_signed(
    tmp_path: Path,
    real_embedder: SentenceTransformerEncoder,
    mode: Mode,
    document: Path,
    signing_words: str,
    title: str,
) -> None:
    # Indexed beside the rest of its corpus (the seed is alone in ../shared/corpus/seed).
    folder = tmp_path / "docs"
    shutil.copytree(document.parent, folder)
    index_paths(tmp_path / "idx", real_embedder, folder)
    hits = (
        open_retriever(tmp_path / "idx", real_embedder)
        .search("Who signed the agreement?", 3, mode)
        .hits
    )
    signing = [h for h in hits if signing_words in h.text]
    assert signing, [h.text[:80] for h in hits]
    original = document.read_text(encoding="utf-8")
    cite = signing[0].citation
    assert Path(cite.source).name == document.name
    assert original[cite.char_start : cite.char_end] == signing[0].text
    assert cite.title.startswith(title)


def test_cli_index_and_search_json(tmp_path: Path) -> None:
    runner = CliRunner()
    index_dir = str(tmp_path / "idx")
    result = runner.invoke(app, ["index", "--sample", "--index-dir", index_dir])
    assert result.exit_code == 0, result.output
    assert "3 documents" in result.output
    result = runner.invoke(
        app,
        ["search", "Who signed the agreement?", "--top-k", "3", "--json", "--index-dir", index_dir],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"] == "Who signed the agreement?"
    top = payload["results"][0]
    assert "Elena Duarte signed the agreement" in top["text"]
    source = Path(top["citation"]["source"])
    assert source.parent == sample_corpus().resolve()
    text = source.read_text(encoding="utf-8")
    assert text[top["char_start"] : top["char_end"]] == top["text"]
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3]
    assert all(r["answer"] is None for r in payload["results"])  # only with --answers
    result = runner.invoke(
        app,
        ["search", "Who signed the agreement?", "-k", "2", "--json", "--answers"]
        + ["--index-dir", index_dir],
    )
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)["results"][0]
    # The shipped span model marks a signer inside the top passage, in document offsets.
    assert top["answer"]["text"] in ("Elena Duarte", "Mayor Elena Duarte", "Samuel Okafor")
    for key in ("answer", "sentence"):
        span = top[key]
        assert text[span["char_start"] : span["char_end"]] == span["text"]


def test_cli_errors_name_the_cause(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["search", "anything", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no index" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x00binary")
    result = runner.invoke(app, ["index", str(bad), "--index-dir", str(tmp_path / "idx")])
    assert result.exit_code == 1 and "bad.txt" in result.output
    result = runner.invoke(
        app, ["index", str(tmp_path / "missing.md"), "--index-dir", str(tmp_path / "idx")]
    )
    assert result.exit_code == 1 and "missing.md" in result.output
    result = runner.invoke(app, ["search", "anything", "--answers", "--top-k", "50"])
    assert result.exit_code == 1 and "at most 20 hits" in result.output


def test_cli_commits_no_generation_when_every_file_failed(tmp_path: Path) -> None:
    runner, index_dir = CliRunner(), tmp_path / "idx"
    good = tmp_path / "good.md"
    good.write_text("The lighthouse keeper logged the storm.", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x00binary")
    assert runner.invoke(app, ["index", str(good), "--index-dir", str(index_dir)]).exit_code == 0
    result = runner.invoke(app, ["index", str(bad), "--index-dir", str(index_dir)])
    assert result.exit_code == 1 and "skipped" in result.output and "bad.txt" in result.output
    assert "1 file(s) could not be indexed" in result.output
    assert "no file was indexed" in " ".join(result.output.split())
    assert (index_dir / "CURRENT").read_text(encoding="utf-8").strip() == "gen-000001"
    assert not (index_dir / "gen-000002").exists()
    # A rebuild where every file fails would trade the index for an empty one: refused.
    rebuilt = runner.invoke(app, ["index", str(bad), "--rebuild", "--index-dir", str(index_dir)])
    assert rebuilt.exit_code == 1 and "bad.txt" in rebuilt.output
    assert "empty index" in rebuilt.output
    assert (index_dir / "CURRENT").read_text(encoding="utf-8").strip() == "gen-000001"
    assert not (index_dir / "gen-000002").exists()
    # A first index whose every file fails creates nothing; one that half fails says so.
    fresh = runner.invoke(app, ["index", str(bad), "--index-dir", str(tmp_path / "new")])
    assert fresh.exit_code == 1 and "no index was created" in " ".join(fresh.output.split())
    assert not (tmp_path / "new" / "CURRENT").exists()
    both = runner.invoke(app, ["index", str(good), str(bad), "--index-dir", str(tmp_path / "b")])
    assert both.exit_code == 1 and "the other files are indexed" in " ".join(both.output.split())
    # Each message is whole on its line, whatever the terminal's width (scripts grep it).
    assert "could not be indexed (listed above); the other files are indexed" in both.output


def test_sample_corpus_chinese_question(
    tmp_path: Path, real_embedder: SentenceTransformerEncoder
) -> None:
    index_paths(tmp_path / "idx", real_embedder, sample_corpus())
    hits = open_retriever(tmp_path / "idx", real_embedder).search("谁代表村委会签字？", 1).hits
    assert "李明华代表村民委员会签字" in hits[0].text


def test_serve_with_two_worker_processes(tmp_path: Path) -> None:
    """``docqa serve --workers 2``: two processes answer, on the index the CLI names."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    index_dir = tmp_path / "idx"
    result = CliRunner().invoke(app, ["index", "--sample", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DOCQA_ANSWERS": "false", "DOCQA_INDEX_DIR": str(tmp_path / "other")}
    command = [sys.executable, "-c", "from docqa.cli import main; main()", "serve"]
    command += ["--workers", "2", "--port", str(port), "--index-dir", str(index_dir)]
    server = subprocess.Popen(command, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not come up"
            try:
                if httpx.get(f"{url}/health", timeout=2).json().get("passages"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1)
        body = httpx.post(f"{url}/v1/search", json={"query": "Who signed the agreement?"}).json()
        assert "Elena Duarte signed the agreement" in body["results"][0]["text"]
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        if children.exists():  # Linux: the supervisor and its two workers
            assert len(children.read_text().split()) >= 2
    finally:
        server.terminate()
        server.wait(timeout=30)
