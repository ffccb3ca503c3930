"""Map domain errors and validation failures to one JSON error shape."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from index.errors import (
    DocqaError,
    DocumentNotFoundError,
    ExtractionError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
)
from retriever.errors import QueryError

_STATUS: list[tuple[type[DocqaError], int, str]] = [
    (QueryError, 422, "invalid_query"),
    (DocumentNotFoundError, 404, "not_found"),
    (IndexNotFoundError, 503, "no_index"),
    (IndexMismatchError, 503, "index_mismatch"),
    (IndexLockedError, 409, "index_busy"),
    (ExtractionError, 422, "unreadable_file"),
]


def error_response(
    status: int, code: str, message: str, details: list[dict[str, object]] | None = None
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


def _readable(errors: list[dict[str, object]]) -> tuple[str, list[dict[str, object]]]:
    details: list[dict[str, object]] = []
    parts: list[str] = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]  # type: ignore[attr-defined]
        field = ".".join(loc) or "body"
        message = str(error.get("msg", "invalid"))
        parts.append(f"{field}: {message}")
        details.append({"field": field, "message": message})
    return "; ".join(parts), details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DocqaError)
    async def domain_error(_request: Request, exc: DocqaError) -> JSONResponse:
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                return error_response(status, code, str(exc))
        return error_response(500, "internal_error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _readable(list(exc.errors()))
        return error_response(422, "invalid_request", message, details)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, f"http_{exc.status_code}", str(exc.detail))
