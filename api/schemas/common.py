"""Shapes every route shares: the one error body and health."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. invalid_request.")
    message: str = Field(description="What went wrong, naming the field or file.")
    details: list[dict[str, object]] | None = None


class ErrorResponse(BaseModel):
    """The one shape of every 4xx/5xx response."""

    error: ErrorBody


_WHY = {
    400: "The body could not be parsed.",
    401: "An API key is required (keys are configured) or the key is unknown.",
    403: "The API key lacks the scope this endpoint needs.",
    404: "No such document.",
    409: "Another process is writing to the index.",
    413: "The request body, upload or file list is too large.",
    415: "The file type is not supported.",
    422: "The request is invalid (the message names the field).",
    503: "No index yet, the index does not match the model, or the server is stopping.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all with the error shape."""
    return {s: {"model": ErrorResponse, "description": _WHY[s]} for s in statuses}


class HealthResponse(BaseModel):
    status: str = Field(description="ok, or no_index until an index is built.")
    model: str
    encoders: list[str]
    dimension: int
    passages: int
    documents: int
    generation: int | None
    answers: str = Field(description="extractive (span model loaded) or fallback (sentences).")
    readers: dict[str, str] = Field(
        default_factory=dict,
        description="Each answer reader (minilm, e5) and its state: on_demand (loaded by the "
        "first question that needs it), loaded, or unavailable.",
    )
    version: str
