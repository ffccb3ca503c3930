"""The cases scripts/attack.py replays: each sends one hostile request and says what came back."""

from __future__ import annotations

import io
import json
import re
import socket
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

Send = Callable[[str, str], tuple[int | None, str]]
Check = Callable[[int | None, str], "str | None"]
TIMEOUT_S = 150.0

SIZES: dict[str, dict[str, int]] = {
    # What the attack on a live server used (issue 17), and a CI-sized run.
    "full": {
        "paragraph": 500_000,
        "html_line": 5_000_000,
        "token": 5_000_000,
        "docx_text": 20_000_000,
        "pdf_stream": 1_000_000,
        "nested": 200_000,
    },
    "small": {
        "paragraph": 50_000,
        "html_line": 300_000,
        "token": 300_000,
        "docx_text": 2_000_000,
        "pdf_stream": 100_000,
        "nested": 20_000,
    },
}
BIG_BODY = 40 * 1024 * 1024


@dataclass
class Case:
    name: str
    send: Send
    expect: set[int] | None
    upload: bool = False
    files: int = 1
    check: Check | None = None
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def _auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def upload(name: str, data: bytes, metadata: str | None = None, key: bool = True) -> Send:
    def send(url: str, write_key: str) -> tuple[int | None, str]:
        form = {} if metadata is None else {"metadata": metadata}
        response = httpx.post(
            f"{url}/v1/documents",
            files=[("files", (name, data, "application/octet-stream"))],
            data=form,
            headers=_auth(write_key if key else None),
            timeout=TIMEOUT_S,
        )
        return response.status_code, response.text

    return send


def post_raw(path: str, body: str) -> Send:
    """A JSON body sent as written (``\\ud800`` escapes reach the server as surrogates)."""

    def send(url: str, key: str) -> tuple[int | None, str]:
        headers = {**_auth(key), "content-type": "application/json"}
        response = httpx.post(f"{url}{path}", content=body.encode(), headers=headers, timeout=60)
        return response.status_code, response.text

    return send


def post_json(path: str, body: object) -> Send:
    return post_raw(path, json.dumps(body))


def big_body_without_key(path: str, content_type: str) -> Send:
    """Headers of a 40 MB request and 64 KB of it; an answer means the body was not read."""

    def send(url: str, _key: str) -> tuple[int | None, str]:
        parts = urlsplit(url)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {BIG_BODY}\r\n\r\n"
        ).encode()
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(head + b"x" * 65_536)
            answer = sock.recv(65_536).decode("latin-1")
        return int(answer.split()[1]), answer.split("\r\n\r\n", 1)[-1]

    return send


def traversal_names(url: str, key: str) -> tuple[int | None, str]:
    worst, bodies = 0, []
    for name in (
        "../../etc/passwd.txt",
        "..\\..\\boot.txt",
        "/abs/x.txt",
        "C:\\x.txt",
        ".hidden.txt",
        "a/../../b.txt",
    ):
        status, body = upload(name, b"climbing text")(url, key)
        worst = max(worst, status or 0)
        bodies.append(body)
    return worst, "\n".join(bodies)


def disconnect_then_upload(size: int) -> Send:
    """Send an upload, drop the connection, then time a small upload: the writer must be free."""

    def send(url: str, key: str) -> tuple[int | None, str]:
        parts = urlsplit(url)
        text = "\n\n".join(f"Paragraph {i} about harbour fees." for i in range(size // 40))
        boundary = "attackboundary"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="dropped.txt"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n'
            f"--{boundary}--\r\n"
        ).encode()
        head = (
            f"POST /v1/documents HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {key}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(head + body)
            time.sleep(0.5)  # the server is working on it now; the client leaves
        return upload("after-drop.txt", b"The writer is free again.")(url, key)

    return send


def chat_markup(url: str, key: str) -> tuple[int | None, str]:
    html = b"<p>The payload reads &lt;script&gt;alert(1)&lt;/script&gt; in the page.</p>"
    status, body = upload("payload.html", html)(url, key)
    if status != 201:
        return status, body
    return post_json(
        "/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": "What does the payload read?"}],
        },
    )(url, key)


def no_raw_markup(_status: int | None, body: str) -> str | None:
    try:
        content = json.loads(body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError):
        return None
    # Escaped as \<script\> it is shown as text; a bare "<script" would run.
    return "raw <script> in chat content" if re.search(r"(?<!\\)<script", content) else None


def split_into_passages(status: int | None, body: str) -> str | None:
    if status != 201:
        return None
    passages = json.loads(body)["documents"][0]["passages"]
    return None if passages >= 2 else f"{passages} passage: the paragraph was not split"


def docx_bomb(text_chars: int) -> bytes:
    paragraph = "<w:p><w:r><w:t>" + "lighthouse " * 90 + "</w:t></w:r></w:p>"
    body = paragraph * (text_chars // 990)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType'
            '="application/xml"/><Override PartName="/word/document.xml" ContentType="application'
            '/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": document,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def shared_stream_pdf(stream_bytes: int, pages: int = 5) -> bytes:
    """A PDF whose ``pages`` all draw one content stream of about ``stream_bytes`` bytes.

    The stream holds at least one line: ``Shared lighthouse text``.
    """
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    line = b"BT /F1 9 Tf 20 700 Td (Shared lighthouse text) Tj ET\n"
    stream = DecodedStreamObject()
    stream.set_data(line * max(1, stream_bytes // len(line)))
    ref = writer._add_object(stream)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = ref
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def build_cases(size: dict[str, int]) -> list[Case]:
    """Every case, built for ``size`` (the file-shaped ones scale, the others do not)."""
    # One paragraph of distinct words (identical windows would be stored once).
    paragraph = " ".join(f"w{i}" for i in range(size["paragraph"] // 8)).encode()
    html_line = (
        b"<html><body><p>" + b"lighthouse " * (size["html_line"] // 11) + b"</p></body></html>"
    )
    nested = b"<div>" * size["nested"] + b"deep" + b"</div>" * size["nested"]
    user = {"role": "user", "content": "x"}
    return [
        Case(
            "txt_one_paragraph",
            upload("paragraph.txt", paragraph),
            {201, 422},
            True,
            check=split_into_passages,
            note="split into passages or refused by a limit",
        ),
        Case("html_one_line", upload("line.html", html_line), {201, 422}, True),
        Case("txt_single_token", upload("token.txt", b"x" * size["token"]), {201, 422}, True),
        Case(
            "docx_paragraph_bomb",
            upload("bomb.docx", docx_bomb(size["docx_text"])),
            {201, 413, 422},
            True,
        ),
        Case(
            "pdf_shared_stream",
            upload("shared.pdf", shared_stream_pdf(size["pdf_stream"])),
            {422},
            True,
            note="refused: DOCQA_PDF_MAX_STREAM_REUSE",
        ),
        Case(
            "html_nested",
            upload("nested.html", nested),
            {422},
            True,
            note="refused: DOCQA_MAX_HTML_DEPTH",
        ),
        Case(
            "chat_lone_surrogate",
            post_raw(
                "/v1/chat/completions", '{"messages": [{"role": "user", "content": "who \\ud800"}]}'
            ),
            {422},
        ),
        Case(
            "chat_stream_lone_surrogate",
            post_raw(
                "/v1/chat/completions",
                '{"stream": true, "messages": [{"role": "user", "content": "\\udc00"}]}',
            ),
            {422},
        ),
        Case(
            "metadata_lone_surrogate",
            upload("meta.txt", b"Some text.", '{"t": "\\ud800"}'),
            {422},
            True,
        ),
        Case(
            "metadata_nested_50000",
            upload("deep.txt", b"Some text.", "[" * 50_000 + "]" * 50_000),
            {413, 422},
            True,
        ),
        Case("filename_250_bytes", upload("n" * 246 + ".txt", b"Some text."), {422}, True),
        Case("path_traversal_names", traversal_names, {422}, True, files=6),
        Case(
            "search_40mb_without_key",
            big_body_without_key("/v1/search", "multipart/form-data; b=x"),
            {401, 413},
            note="answered from the headers",
        ),
        Case(
            "upload_40mb_without_key",
            big_body_without_key("/v1/documents", "multipart/form-data; boundary=x"),
            {401},
            note="answered from the headers",
        ),
        Case(
            "date_filter_unanchored",
            post_json("/v1/search", {"query": "x", "filters": {"date_from": "2020' OR '1'='1"}}),
            {422},
        ),
        Case("top_k_string", post_json("/v1/search", {"query": "x", "top_k": "5"}), {422}),
        Case("top_k_bool", post_json("/v1/search", {"query": "x", "top_k": True}), {422}),
        Case("answers_yes", post_json("/v1/search", {"query": "x", "answers": "yes"}), {422}),
        Case("zero_width_query", post_json("/v1/search", {"query": "\u200b\u200b"}), {422}),
        Case(
            "chat_model_invisible",
            post_json("/v1/chat/completions", {"model": "\u2060", "messages": [user]}),
            {422},
        ),
        Case(
            "upload_then_disconnect",
            disconnect_then_upload(size["paragraph"]),
            {201},
            True,
            files=2,
            note="a dropped upload frees the writer",
        ),
        Case(
            "chat_document_markup",
            chat_markup,
            {200},
            check=no_raw_markup,
            note="document markup escaped in content",
        ),
        Case(
            "unreadable_file_error",
            upload("broken.txt", b"\xff\xfe\xfa not utf-8"),
            {422},
            True,
            note="error names the file, not a server path",
        ),
        Case("document_list", lambda url, key: _get(url, key, "/v1/documents"), {200}),
    ]


def _get(url: str, key: str, path: str) -> tuple[int | None, str]:
    response = httpx.get(f"{url}{path}", headers=_auth(key), timeout=60)
    return response.status_code, response.text
