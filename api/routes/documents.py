"""``/v1/documents``: list, read, upload (multipart, indexed incrementally) and delete."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from api.convert import document_out
from api.deps import ReadAccess, ServicesDep, WriteAccess
from api.schemas import (
    ContextPassage,
    DeleteResponse,
    DocumentList,
    DocumentText,
    PassageContext,
    UploadedDocument,
    UploadResponse,
    error_responses,
)
from api.uploads import IncomingFile, UploadError, UploadTooLargeError
from index.formats.textcheck import json_problems

router = APIRouter(tags=["documents"])
_WATCH_S = 0.2

MetadataForm = Annotated[
    str | None,
    Form(
        description="JSON: one object for every file, or a list with one object per file "
        '(in upload order), e.g. {"tags": ["policy"], "date": "2024-05-01"}; '
        "a `title` key overrides the extracted title."
    ),
]


def _metadata(
    raw: str | None, count: int, max_bytes: int, max_depth: int
) -> list[dict[str, object]]:
    if raw is None or not raw.strip():
        return [{} for _ in range(count)]
    if len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
        raise UploadTooLargeError(
            f"metadata: larger than the limit of {max_bytes} bytes (DOCQA_MAX_METADATA_BYTES)"
        )
    try:
        value = json.loads(raw)
    except RecursionError:
        raise UploadError(f"metadata: nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise UploadError(f"metadata: not valid JSON ({exc})") from exc
    for item in value if isinstance(value, list) else [value]:  # a list: one per file
        for problem in json_problems(item, max_depth):
            raise UploadError(f"metadata: {problem}")
    if isinstance(value, dict):
        return [dict(value) for _ in range(count)]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        if len(value) != count:
            raise UploadError(f"metadata: {len(value)} objects for {count} files")
        return [dict(v) for v in value]
    raise UploadError("metadata: must be a JSON object or a list of objects, one per file")


@router.get(
    "/documents",
    response_model=DocumentList,
    dependencies=[ReadAccess],
    responses=error_responses(401, 403, 503),
)
def list_documents(services: ServicesDep) -> DocumentList:
    """Every indexed document with its passage count and metadata."""
    docs = services.retriever().handle.current().store.documents()
    return DocumentList(
        documents=[document_out(d, services.show_source) for d in docs], total=len(docs)
    )


@router.get(
    "/documents/{document_id}",
    response_model=DocumentText,
    dependencies=[ReadAccess],
    responses=error_responses(401, 403, 404, 503),
)
def get_document(document_id: str, services: ServicesDep) -> DocumentText:
    """One document with the exact text that citation offsets point into."""
    store = services.retriever().handle.current().store
    info = store.document(document_id)  # raises DocumentNotFoundError: a 404
    return DocumentText(
        **document_out(info, services.show_source).model_dump(),
        text=store.document_text(document_id),
    )


@router.get(
    "/documents/{document_id}/passages",
    response_model=PassageContext,
    dependencies=[ReadAccess],
    responses=error_responses(401, 403, 404, 422, 503),
)
def passage_context(
    document_id: str,
    services: ServicesDep,
    around: Annotated[int, Query(ge=0, description="The cited paragraph number.")],
    radius: Annotated[
        int | None,
        Query(ge=0, description="Paragraphs on each side (at most max_context_paragraphs)."),
    ] = None,
) -> PassageContext:
    """A cited paragraph and its neighbours, to show a citation in its document context."""
    limit = services.settings.max_context_paragraphs
    wanted = limit if radius is None else min(radius, limit)
    store = services.retriever().handle.current().store
    info = store.document(document_id)  # raises DocumentNotFoundError: a 404
    found = store.passages_around(document_id, around, wanted)
    return PassageContext(
        document_id=document_id,
        title=info.title,
        source=services.show_source(info.source),
        around=around,
        passages=[
            ContextPassage(
                paragraph=p.paragraph,
                char_start=p.char_start,
                char_end=p.char_end,
                text=p.text,
                section=p.section,
                page=p.page,
            )
            for p in found
        ],
    )


@router.post(
    "/documents",
    status_code=201,
    response_model=UploadResponse,
    dependencies=[WriteAccess],
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 503),
)
async def upload_documents(
    files: Annotated[list[UploadFile], File(min_length=1, description="Files to index.")],
    request: Request,
    services: ServicesDep,
    metadata: MetadataForm = None,
) -> UploadResponse:
    """Store the files in the data directory and index them in one commit (all or nothing).

    Only new or changed paragraphs are embedded; uploading a file with the same name again
    updates that document. Searches keep answering from the previous generation meanwhile.
    """
    started = time.perf_counter()
    settings = services.settings
    if len(files) > settings.max_upload_files:
        raise UploadTooLargeError(
            f"{len(files)} files in one upload; the limit is {settings.max_upload_files}"
        )
    metas = _metadata(
        metadata, len(files), settings.max_metadata_bytes, settings.max_metadata_depth
    )
    incoming = [
        IncomingFile(f.filename or "", f.file, meta) for f, meta in zip(files, metas, strict=True)
    ]
    # Indexing runs in a worker thread (never blocking the loop); this task watches the
    # client, so a dropped upload stops working and frees the writer within moments.
    gone = threading.Event()
    watcher = asyncio.create_task(_watch(request, gone))
    try:
        result = await run_in_threadpool(
            services.uploads.add,
            incoming,
            lambda: gone.is_set() or services.stopping.is_set(),
        )
    finally:
        watcher.cancel()
    report = result.report
    return UploadResponse(
        generation=report.generation,
        documents=[
            UploadedDocument(
                document_id=d.document_id,
                filename=d.filename,
                title=d.title,
                status=d.status,
                passages=d.passages,
            )
            for d in result.documents
        ],
        documents_total=report.documents_total,
        passages_total=report.passages_total,
        passages_embedded=report.passages_embedded,
        took_ms=round((time.perf_counter() - started) * 1000, 3),
    )


async def _watch(request: Request, gone: threading.Event) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(_WATCH_S)
    gone.set()


@router.delete(
    "/documents/{document_id}",
    response_model=DeleteResponse,
    dependencies=[WriteAccess],
    responses=error_responses(401, 403, 404, 409),
)
def delete_document(document_id: str, services: ServicesDep) -> DeleteResponse:
    """Remove a document from the index (and its file, if it was uploaded)."""
    report = services.uploads.remove(document_id)
    return DeleteResponse(document_id=document_id, deleted=True, generation=report.generation)
