"""Document listing, text, upload and delete models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DocumentOut(BaseModel):
    document_id: str
    title: str
    source: str
    passages: int
    metadata: dict[str, object]


class DocumentList(BaseModel):
    documents: list[DocumentOut]
    total: int


class DocumentText(DocumentOut):
    text: str = Field(description="The exact text that citation offsets index into.")


class UploadedDocument(BaseModel):
    document_id: str
    filename: str = Field(description="The stored file name (the upload's base name).")
    title: str
    status: Literal["added", "updated", "unchanged"]
    passages: int


class UploadResponse(BaseModel):
    generation: int = Field(description="The index generation that holds the upload.")
    documents: list[UploadedDocument]
    documents_total: int
    passages_total: int
    passages_embedded: int
    took_ms: float


class DeleteResponse(BaseModel):
    document_id: str
    deleted: bool
    generation: int


class ContextPassage(BaseModel):
    paragraph: int
    char_start: int = Field(description="Offset of the passage in the document text.")
    char_end: int
    text: str
    section: str | None = None
    page: int | None = None


class PassageContext(BaseModel):
    """A cited paragraph with its neighbours, in document order."""

    document_id: str
    title: str
    source: str
    around: int = Field(description="The paragraph asked for.")
    passages: list[ContextPassage]
