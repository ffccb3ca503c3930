"""Uploads: indexed incrementally, metadata, deletes, limits, unsafe names, busy index."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.uploads import UnsafeFilenameError, safe_filename, target_path
from index.encoders.base import Vectors
from index.lifecycle import generation as gen
from tests.api_support import make_app
from tests.fakes import KeywordEncoder
from tests.helpers import STORE_SETTINGS, index_paths

TXT = "text/plain"


@pytest.fixture
def index_dir(tmp_path: Path, corpus_dir: Path, store: str) -> Path:
    # Uploads, re-uploads and deletes run against both vector stores (FAISS, Milvus Lite).
    index_paths(tmp_path / "idx", KeywordEncoder(), corpus_dir)
    return tmp_path / "idx"


@pytest.fixture
def client(index_dir: Path) -> Iterator[TestClient]:
    with TestClient(make_app(index_dir, max_upload_bytes=4096, max_upload_files=3)) as c:
        yield c


def _upload(client: TestClient, *files: tuple[str, bytes], **form: str) -> Any:
    return client.post(
        "/v1/documents", files=[("files", (n, data, TXT)) for n, data in files], data=form
    )


def test_upload_indexes_files_and_search_finds_them(client: TestClient, tmp_path: Path) -> None:
    response = _upload(
        client,
        ("lighthouse.txt", b"The lighthouse keeper was Ada Quill.\n\nShe lit the lamp."),
        ("灯塔.md", "# 灯塔\n\n灯塔守护者是艾达。\n".encode()),
        metadata=json.dumps({"tags": ["coast"], "date": "2024-05-01"}),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [d["status"] for d in body["documents"]] == ["added", "added"]
    assert body["documents_total"] == 4 and body["passages_embedded"] >= 3
    stored = tmp_path / "uploads"
    assert sorted(p.name for p in stored.iterdir()) == ["lighthouse.txt", "灯塔.md"]
    hit = client.post("/v1/search", json={"query": "lighthouse keeper", "top_k": 1}).json()
    top = hit["results"][0]
    assert "Ada Quill" in top["text"] and hit["generation"] == body["generation"]
    doc = client.get(f"/v1/documents/{top['citation']['document_id']}").json()
    assert doc["metadata"] == {"tags": ["coast"], "date": "2024-05-01"}
    assert doc["text"][top["char_start"] : top["char_end"]] == top["text"]
    tagged = client.post("/v1/search", json={"query": "lamp", "filters": {"tags": "coast"}}).json()
    uploaded = {d["document_id"] for d in body["documents"]}
    assert tagged["results"]
    assert {r["citation"]["document_id"] for r in tagged["results"]} <= uploaded


def test_per_file_metadata_and_title(client: TestClient) -> None:
    response = _upload(
        client,
        ("a.txt", b"Alpha text about kites."),
        ("b.txt", b"Beta text about boats."),
        metadata=json.dumps([{"title": "Kites"}, {"tags": ["sea"]}]),
    )
    docs = response.json()["documents"]
    assert [d["title"] for d in docs] == ["Kites", "Beta text about boats."]
    meta = client.get(f"/v1/documents/{docs[1]['document_id']}").json()["metadata"]
    assert meta == {"tags": ["sea"]}


def test_reupload_updates_only_what_changed_and_delete_removes(
    client: TestClient, tmp_path: Path
) -> None:
    first = _upload(client, ("notes.txt", b"First paragraph.\n\nSecond paragraph.")).json()
    same = _upload(client, ("notes.txt", b"First paragraph.\n\nSecond paragraph.")).json()
    assert same["documents"][0]["status"] == "unchanged" and same["passages_embedded"] == 0
    changed = _upload(client, ("notes.txt", b"First paragraph.\n\nA new second one.")).json()
    assert changed["documents"][0]["status"] == "updated"
    assert changed["passages_embedded"] == 1  # the unchanged paragraph kept its vector
    doc_id = first["documents"][0]["document_id"]
    assert changed["documents"][0]["document_id"] == doc_id
    deleted = client.delete(f"/v1/documents/{doc_id}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert not (tmp_path / "uploads" / "notes.txt").exists()
    assert client.get(f"/v1/documents/{doc_id}").status_code == 404
    again = client.delete(f"/v1/documents/{doc_id}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_delete_of_a_cli_indexed_document_keeps_its_file(
    client: TestClient, corpus_dir: Path
) -> None:
    docs = client.get("/v1/documents").json()["documents"]
    tea = next(d for d in docs if d["title"] == "Green tea")
    assert client.delete(f"/v1/documents/{tea['document_id']}").status_code == 200
    assert (corpus_dir / "tea.txt").exists()  # only uploaded files are deleted from disk
    assert client.get("/health").json()["documents"] == 1


def _raw_upload(client: TestClient, filename: bytes, data: bytes) -> Any:
    """A multipart upload built by hand, so the client cannot clean the name up first."""
    boundary = b"x7boundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="files"; filename="'
        + filename
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + data
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    return client.post(
        "/v1/documents",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=x7boundary"},
    )


@pytest.mark.parametrize(
    "name",
    [
        b"../escape.txt",
        b"../../etc/passwd.txt",
        b"sub/../../escape.txt",
        b"/etc/cron.d/evil.txt",
        b"..\\escape.txt",
        b"\\\\server\\share\\x.txt",
        b"nul\x00byte.txt",
        b"tab\tname.txt",
        b".hidden.txt",
        b"..",
        b"   ",
        b"",
    ],
)
def test_path_traversal_names_are_refused(client: TestClient, tmp_path: Path, name: bytes) -> None:
    response = _raw_upload(client, name, b"owned")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] in {"unsafe_filename", "invalid_request"}
    written = {p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == b"owned"}
    assert written == set()
    assert client.get("/health").json()["documents"] == 2


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        (b"C:\\Windows\\evil.txt", "evil.txt"),  # the multipart parser keeps the last part
        (b"reports/2024/q1.txt", "q1.txt"),
    ],
)
def test_names_with_directories_are_stored_by_base_name(
    client: TestClient, tmp_path: Path, name: bytes, stored: str
) -> None:
    response = _raw_upload(client, name, b"kept")
    assert response.status_code == 201, response.text
    assert response.json()["documents"][0]["filename"] == stored
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == b"kept"]
    assert written == [tmp_path / "uploads" / stored]


def test_directory_part_of_a_name_is_dropped() -> None:
    assert safe_filename("reports/2024/q1.txt") == "q1.txt"
    assert safe_filename("C-drive notes.md") == "C-drive notes.md"


def test_symlink_planted_in_the_data_dir_cannot_redirect_a_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "link.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(UnsafeFilenameError):
        target_path(data, "link.txt")


def test_unsupported_type_is_415(client: TestClient) -> None:
    response = _upload(client, ("tool.exe", b"MZ"), ("ok.txt", b"fine"))
    assert response.status_code == 415
    assert "'.exe'" in response.json()["error"]["message"]
    assert client.get("/health").json()["documents"] == 2  # all or nothing


def test_unreadable_file_is_422_and_nothing_is_indexed(client: TestClient) -> None:
    response = _upload(client, ("broken.pdf", b"%PDF-1.4 not really"), ("ok.txt", b"fine"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unreadable_file"
    # The message says the good file was not kept either (an upload is all or nothing).
    assert "nothing from this upload was indexed" in response.json()["error"]["message"]
    assert client.get("/health").json()["documents"] == 2


def test_empty_file_is_422_naming_it(client: TestClient) -> None:
    for name, data in (("empty.txt", b""), ("blank.md", b"  \n\n\t\n")):
        response = _upload(client, (name, data))
        assert response.status_code == 422
        message = response.json()["error"]["message"]
        assert name in message and "no text" in message
    assert client.get("/health").json()["documents"] == 2


def test_oversize_upload_is_413(client: TestClient) -> None:
    response = _upload(client, ("big.txt", b"x" * 5000))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_oversize_chunked_upload_is_413(client: TestClient) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="c.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{'y' * 6000}\r\n--{boundary}--\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:  # no content-length: the limit is counted while reading
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = client.post(
        "/v1/documents",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_too_many_files_is_413(client: TestClient) -> None:
    response = _upload(client, *[(f"f{i}.txt", b"a") for i in range(4)])
    assert response.status_code == 413


def test_oversize_json_body_is_413(index_dir: Path) -> None:
    with TestClient(make_app(index_dir, max_body_bytes=200)) as client:
        response = client.post("/v1/search", json={"query": "tea " * 100})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "list of objects"), ("[{}, {}]", "2 objects")],
)
def test_bad_metadata_is_422(client: TestClient, metadata: str, message: str) -> None:
    response = _upload(client, ("m.txt", b"text"), metadata=metadata)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_upload_without_files_is_422(client: TestClient) -> None:
    response = client.post("/v1/documents", data={"metadata": "{}"})
    assert response.status_code == 422 and "files" in response.json()["error"]["message"]


def test_index_locked_by_another_writer_is_409(index_dir: Path) -> None:
    app = make_app(index_dir, write_wait_seconds=0.2)
    with TestClient(app) as client, gen.writer_lock(index_dir):
        response = _upload(client, ("late.txt", b"Late text."))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "index_busy"
        assert client.post("/v1/search", json={"query": "tea"}).status_code == 200


class _GatedEmbedder(KeywordEncoder):
    """Blocks passage embedding (i.e. indexing) until released; queries are not blocked."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = threading.Event()
        self.release = threading.Event()

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        self.embedding.set()
        assert self.release.wait(30), "test never released the upload"
        return super().encode_passages(texts, batch_size)


def test_queries_are_answered_while_an_upload_is_indexing(index_dir: Path) -> None:
    from docqa.server import create_app
    from docqa.settings import Settings

    encoder = _GatedEmbedder()
    app = create_app(
        Settings(index_dir=index_dir, **STORE_SETTINGS),  # type: ignore[arg-type]
        encoder_factory=lambda _s: [encoder],
        extractor_factory=lambda _s: None,
    )
    with TestClient(app) as client:
        before = client.post("/v1/search", json={"query": "tea"}).json()["generation"]
        results: dict[str, Any] = {}
        uploader = threading.Thread(
            target=lambda: results.update(
                upload=_upload(client, ("zebra.txt", b"Zebras graze on the savanna."))
            )
        )
        uploader.start()
        assert encoder.embedding.wait(30)
        during = client.post("/v1/search", json={"query": "zebras savanna"})
        assert during.status_code == 200 and during.json()["generation"] == before
        assert all("Zebras" not in r["text"] for r in during.json()["results"])
        assert client.get("/health").json()["status"] == "ok"
        encoder.release.set()
        uploader.join(30)
        assert results["upload"].status_code == 201
        after = client.post("/v1/search", json={"query": "zebras savanna"}).json()
        assert after["generation"] == before + 1
        assert "Zebras" in after["results"][0]["text"]


@pytest.mark.parametrize("sentence_vectors", [True, False])
def test_first_upload_builds_the_index_with_the_configured_sentence_choice(
    tmp_path: Path, sentence_vectors: bool
) -> None:
    from index.lifecycle.manifest import Manifest

    index_dir = tmp_path / "new-index"
    app = make_app(index_dir, None, sentence_vectors=sentence_vectors)
    with TestClient(app) as client:
        response = _upload(client, ("notes.txt", b"First sentence here. Second one there.\n"))
        assert response.status_code == 201, response.text
        assert response.json()["passages_total"] == 1
    manifest = Manifest.read(gen.require_current(index_dir))
    assert manifest.sentence_vectors is sentence_vectors
    assert (manifest.sentences > 0) is sentence_vectors
