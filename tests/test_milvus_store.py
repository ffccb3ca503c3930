"""The Milvus vector store: filter expressions, generation visibility, shared serving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.encoders.specs import specs_of
from index.errors import IndexMismatchError
from index.filters import MetadataFilter
from index.lifecycle.snapshot import IndexSnapshot
from index.stores.base import RowFields
from index.stores.faiss_store import FaissStore
from index.stores.milvus.filters import to_expression
from retriever.types import Mode
from scripts.common import free_port
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths, open_retriever, use_vector_store

pytest.importorskip("pymilvus", reason="Milvus support is not installed (docqa[milvus])")

from index.stores.milvus.client import disconnect  # noqa: E402
from index.stores.milvus.store import LIVE, MilvusStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("filters", "expression"),
    [
        (MetadataFilter(document_ids=("a", "b_1")), '(document_id in ["a", "b_1"])'),
        (MetadataFilter(tags=("茶", "x")), '(json_contains_any(tags, ["茶", "x"]))'),
        (MetadataFilter(date_from="2024-05"), '(date >= "2024-05")'),
        (
            MetadataFilter(date_to="2024"),
            '((date != "" and (date <= "2024" or date like "2024%")))',
        ),
        (
            MetadataFilter(equals={"author": "g", "n": 3, "ok": True}),
            '(metadata["author"] == "g") and (metadata["n"] == 3) and (metadata["ok"] == true)',
        ),
        (MetadataFilter(equals={"author": 'say "hi"'}), None),  # not safe: ids instead
        (MetadataFilter(equals={"list": [1, 2]}), None),
    ],
)
def test_filters_become_milvus_expressions(filters: MetadataFilter, expression: str) -> None:
    assert to_expression(filters) == expression


@pytest.fixture
def milvus(tmp_path: Path) -> Iterator[MilvusStore]:
    uri = str(tmp_path / "milvus.db")
    store = MilvusStore(uri)
    use_vector_store(store)
    try:
        yield store
    finally:
        use_vector_store(None)
        disconnect(uri)


def _folder(path: Path, words: list[str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for word in words:
        (path / f"{word}.txt").write_text(f"All about the {word}.\n", encoding="utf-8")
    return path


def test_generations_see_exactly_their_rows(tmp_path: Path, milvus: MilvusStore) -> None:
    encoder, index_dir = KeywordEncoder(), tmp_path / "idx"
    folder = _folder(tmp_path / "docs", ["anchor", "beacon"])
    index_paths(index_dir, encoder, folder)
    reader = open_retriever(index_dir, encoder)
    pinned = reader.handle.current()  # a reader still on generation 1
    (folder / "beacon.txt").unlink()
    _folder(folder, ["compass"])
    index_paths(index_dir, encoder, folder)
    query = encoder.encode_queries(["compass beacon"])
    name = encoder.name
    old = {vid for vid, _ in pinned.dense[name].search(query, 10)[0]}
    new = {vid for vid, _ in reader.handle.current().dense[name].search(query, 10)[0]}
    assert pinned.dense[name].count == 2 and reader.handle.current().dense[name].count == 2
    assert {p.text for p in pinned.store.passages_by_vector_id(sorted(old)).values()} == {
        "All about the anchor.",
        "All about the beacon.",
    }
    current = reader.handle.current().store.passages_by_vector_id(sorted(new))
    texts = {p.text for p in current.values()}
    assert texts == {"All about the anchor.", "All about the compass."}


def test_crashed_writer_rows_are_rolled_back(tmp_path: Path, milvus: MilvusStore) -> None:
    encoder, index_dir = KeywordEncoder(), tmp_path / "idx"
    folder = _folder(tmp_path / "docs", ["anchor", "beacon"])
    index_paths(index_dir, encoder, folder)
    spec = specs_of([encoder])[0]
    # A writer of generation 2 that died after touching Milvus, before publishing.
    staged = milvus.writer(spec, 2, index_dir / "gen-000001")
    staged.remove([0])
    staged.add([99], encoder.encode_passages(["ghost"]), [RowFields.of("ghost", {})])
    collection = milvus._open(spec, create=False)  # noqa: SLF001 - checking raw rows
    assert collection.count("gen_from == 2") == 1
    reader = open_retriever(index_dir, encoder)
    assert len(reader.search("anchor beacon ghost", 10, Mode.DENSE).hits) == 2
    index_paths(index_dir, encoder, folder)  # the next writer cleans up first
    assert collection.count("vector_id == 99") == 0
    assert collection.count(f"gen_to == {LIVE}") == 2
    assert [h.text for h in reader.search("ghost anchor", 1, Mode.DENSE).hits] == [
        "All about the anchor."
    ]


def test_old_rows_are_collected(tmp_path: Path, milvus: MilvusStore) -> None:
    encoder, index_dir = KeywordEncoder(), tmp_path / "idx"
    folder = _folder(tmp_path / "docs", ["anchor"])
    for word in ["beacon", "compass", "dinghy"]:
        index_paths(index_dir, encoder, folder)
        (folder / "anchor.txt").write_text(f"All about the {word}.\n", encoding="utf-8")
    collection = milvus._open(specs_of([encoder])[0], create=False)  # noqa: SLF001
    # Generation 3 is current; rows only generation 1 could see are gone.
    assert collection.count("gen_to <= 2") == 0
    assert collection.count("gen_from <= 3 and gen_to > 3") == 1


def test_store_mismatch_is_refused(tmp_path: Path, corpus_dir: Path) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, corpus_dir)  # the FAISS default
    uri = str(tmp_path / "milvus.db")
    try:
        with pytest.raises(IndexMismatchError, match="not in Milvus"):
            IndexSnapshot.open(tmp_path / "idx", specs_of([encoder]), vector_store=MilvusStore(uri))
    finally:
        disconnect(uri)


def test_faiss_store_refuses_a_milvus_index(tmp_path: Path, milvus: MilvusStore) -> None:
    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, _folder(tmp_path / "docs", ["anchor"]))
    assert not list((tmp_path / "idx").glob("gen-*/dense-*.faiss"))
    with pytest.raises(IndexMismatchError, match="DOCQA_VECTOR_STORE=milvus"):
        IndexSnapshot.open(tmp_path / "idx", specs_of([encoder]), vector_store=FaissStore())


def _wait_http(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


@pytest.mark.slow
def test_two_api_processes_share_one_milvus(tmp_path: Path) -> None:
    """Two API processes on one Milvus server (Milvus Lite's gRPC mode) see each other's writes."""
    milvus_port, ports = free_port(), (free_port(), free_port())
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DOCQA_VECTOR_STORE": "milvus",
        "DOCQA_MILVUS_URI": f"http://127.0.0.1:{milvus_port}",
        "DOCQA_DATA_DIR": str(tmp_path / "uploads"),
    }
    index_dir = tmp_path / "idx"
    started: list[subprocess.Popen[bytes]] = []
    try:
        server = subprocess.Popen(
            [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "mv")]
            + ["--host", "127.0.0.1", "--port", str(milvus_port)],
            env=env,
        )
        started.append(server)
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", milvus_port)) != 0:
            assert server.poll() is None and time.monotonic() < deadline, "no Milvus server"
            time.sleep(0.2)
        for port in ports:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.api_worker", str(index_dir), str(port)],
                    env=env,
                    cwd=ROOT,
                )
            )
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        for url, process in zip((a, b), started[1:], strict=True):
            _wait_http(f"{url}/health", process)

        upload = httpx.post(
            f"{a}/v1/documents",
            files=[("files", ("harbour.txt", b"The harbour pilot was Nell Crane.", "text/plain"))],
            timeout=60,
        )
        assert upload.status_code == 201, upload.text
        generation = upload.json()["generation"]
        found = httpx.post(
            f"{b}/v1/search", json={"query": "harbour pilot", "mode": "dense"}, timeout=30
        ).json()
        assert found["generation"] == generation
        assert "Nell Crane" in found["results"][0]["text"]
        document_id = found["results"][0]["citation"]["document_id"]

        assert httpx.delete(f"{b}/v1/documents/{document_id}", timeout=60).status_code == 200
        after = httpx.post(
            f"{a}/v1/search", json={"query": "harbour pilot", "mode": "dense"}, timeout=30
        ).json()
        assert after["generation"] == generation + 1 and after["results"] == []
        # The vectors are in Milvus, not in the index directory.
        assert not list(index_dir.glob("gen-*/dense-*.faiss"))
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def test_one_setting_switches_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa.settings import Settings
    from docqa.wiring import vector_store

    assert isinstance(vector_store(Settings()), FaissStore)  # the default: no server
    uri = str(tmp_path / "switch.db")
    monkeypatch.setenv("DOCQA_VECTOR_STORE", "milvus")
    monkeypatch.setenv("DOCQA_MILVUS_URI", uri)
    monkeypatch.setenv("DOCQA_MILVUS_COLLECTION", "team_a")
    try:
        chosen = vector_store(Settings())
        assert isinstance(chosen, MilvusStore)
        assert (chosen.uri, chosen.collection, chosen.index_type) == (uri, "team_a", "FLAT")
        spec = specs_of([KeywordEncoder()])[0]
        assert chosen.collection_name(spec) == "team_a_fake_keyword"
    finally:
        disconnect(uri)


def test_lite_files_and_servers_are_told_apart() -> None:
    from index.stores.milvus.client import is_local

    assert is_local("./milvus.db") and is_local("/data/milvus.db")
    assert not is_local("http://milvus:19530") and not is_local("https://in01.zillizcloud.com")


def test_a_new_process_reopens_the_collection(tmp_path: Path) -> None:
    """A persisted Milvus Lite collection starts released in a new process; docqa loads it."""
    uri, encoder = str(tmp_path / "milvus.db"), KeywordEncoder()
    folder = _folder(tmp_path / "docs", ["anchor", "beacon"])
    script = (
        "import sys; from pathlib import Path\n"
        "from index.stores.milvus.store import MilvusStore\n"
        "from tests.fakes import KeywordEncoder\n"
        "from tests.helpers import index_paths, use_vector_store\n"
        "use_vector_store(MilvusStore(sys.argv[1]))\n"
        "index_paths(Path(sys.argv[2]), KeywordEncoder(), Path(sys.argv[3]))\n"
    )
    args = [sys.executable, "-c", script, uri, str(tmp_path / "idx"), str(folder)]
    subprocess.run(args, cwd=ROOT, check=True, timeout=300)  # the indexing process exits
    use_vector_store(MilvusStore(uri))
    try:
        hits = open_retriever(tmp_path / "idx", encoder).search("beacon", 1, Mode.DENSE).hits
        assert [h.text for h in hits] == ["All about the beacon."]
    finally:
        use_vector_store(None)
        disconnect(uri)


def test_milvus_failures_are_domain_errors(tmp_path: Path, milvus: MilvusStore) -> None:
    from index.errors import VectorStoreError

    encoder = KeywordEncoder()
    index_paths(tmp_path / "idx", encoder, _folder(tmp_path / "docs", ["anchor"]))
    retriever = open_retriever(tmp_path / "idx", encoder)
    collection = milvus._open(specs_of([encoder])[0], create=False)  # noqa: SLF001
    collection.client.drop_collection(collection.name)  # the server lost it
    with pytest.raises(VectorStoreError, match="Milvus search"):
        retriever.search("anchor", 1, Mode.DENSE)
