"""``GET /documents`` and ``GET /documents/{id}``."""

from __future__ import annotations

from fastapi import APIRouter

from api.convert import document_out
from api.deps import ServicesDep
from api.schemas import DocumentList, DocumentText, ErrorResponse
from index.errors import DocumentNotFoundError

router = APIRouter(tags=["documents"])


@router.get("/documents", response_model=DocumentList)
def list_documents(services: ServicesDep) -> DocumentList:
    """Every indexed document with its passage count and metadata."""
    docs = services.retriever().handle.current().store.documents()
    return DocumentList(documents=[document_out(d) for d in docs], total=len(docs))


@router.get(
    "/documents/{document_id}",
    response_model=DocumentText,
    responses={404: {"model": ErrorResponse}},
)
def get_document(document_id: str, services: ServicesDep) -> DocumentText:
    """One document with the exact text that citation offsets point into."""
    store = services.retriever().handle.current().store
    for info in store.documents():
        if info.document_id == document_id:
            return DocumentText(
                **document_out(info).model_dump(), text=store.document_text(document_id)
            )
    raise DocumentNotFoundError(f"no document with id {document_id!r}")
