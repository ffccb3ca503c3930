"""Map domain errors and validation failures to one JSON error shape."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.auth import ForbiddenError, InvalidKeyError, MissingKeyError
from api.uploads import UnsafeFilenameError, UploadBudgetError, UploadError, UploadTooLargeError
from index.errors import (
    DocqaError,
    DocumentNotFoundError,
    ExtractionError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IngestCancelledError,
    UnsupportedFormatError,
    VectorStoreError,
)
from retriever.answer.chat import ChatRequestError
from retriever.errors import QueryError, too_long_query

logger = logging.getLogger(__name__)
# An absolute path of two or more parts ("/srv/docqa/index", not "/v1" or "a/b"); only
# its last part is kept. Domain errors name files and folders for the CLI's sake; a
# client must not learn the server's layout from them.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])(?!/v1/)(?:/[^\s/'\"():;,]+){2,}")


def without_paths(message: str) -> str:
    """``message`` with every absolute server path cut to its final name."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(0).rsplit("/", 1)[-1], message)


# First match wins, so subclasses come before their bases.
_STATUS: list[tuple[type[DocqaError], int, str]] = [
    (QueryError, 422, "invalid_query"),
    (ChatRequestError, 422, "invalid_request"),
    (DocumentNotFoundError, 404, "not_found"),
    (IndexNotFoundError, 503, "no_index"),
    (IndexMismatchError, 503, "index_mismatch"),
    (VectorStoreError, 503, "vector_store_unavailable"),
    (IndexLockedError, 409, "index_busy"),
    (UnsupportedFormatError, 415, "unsupported_file_type"),
    (ExtractionError, 422, "unreadable_file"),
    (UnsafeFilenameError, 422, "unsafe_filename"),
    (UploadTooLargeError, 413, "too_large"),
    (UploadBudgetError, 422, "over_budget"),
    (IngestCancelledError, 503, "cancelled"),
    (UploadError, 422, "invalid_upload"),
    (MissingKeyError, 401, "missing_api_key"),
    (InvalidKeyError, 401, "invalid_api_key"),
    (ForbiddenError, 403, "insufficient_scope"),
]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, object]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def error_body(exc: DocqaError) -> tuple[int, dict[str, object]]:
    """Status and error body of a domain error (also sent as an SSE ``error`` event)."""
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, {"code": code, "message": without_paths(str(exc))}
    return 500, {"code": "internal_error", "message": "internal server error; see the server log"}


def _json_invalid(error: dict[str, object]) -> str:
    # FastAPI reports an unparsable body as loc ("body", <character offset>): the
    # offset is where parsing stopped, not a field, so it goes into the message.
    loc = error.get("loc", ())
    at = next((p for p in loc if isinstance(p, int)), None)  # type: ignore[attr-defined]
    ctx = error.get("ctx")
    reason = ctx.get("error") if isinstance(ctx, dict) else None
    where = f" (at character {at})" if at is not None else ""
    return f"request body is not valid JSON{where}: {reason or error.get('msg', 'invalid')}"


#: pydantic's types for "the body is not an object" (a form, a list, a string).
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type", "model_type"})
#: pydantic prefixes the message of a ValueError raised in a validator with this.
_VALUE_ERROR = "Value error, "


def _not_an_object(content_type: str) -> str:
    sent = content_type.split(";", 1)[0].strip() or "none"
    hint = "" if "json" in sent else f" (sent as {sent}; send Content-Type: application/json)"
    return f"request body must be a JSON object{hint}"


def _too_long_query(error: dict[str, object], limit: int | None) -> str | None:
    """The retriever's message for a question over ``DOCQA_MAX_QUERY_CHARS``, also where
    the schema's hard cap caught it first (pydantic would name the cap, not the setting)."""
    loc = error.get("loc", ())
    last = loc[-1] if isinstance(loc, tuple | list) and loc else None
    sent = error.get("input")
    if limit is None or error.get("type") != "string_too_long" or last != "query":
        return None
    return too_long_query(len(str(sent)), limit)


def _readable(
    errors: list[dict[str, object]], content_type: str = "", query_limit: int | None = None
) -> tuple[str, list[dict[str, object]]]:
    details: list[dict[str, object]] = []
    parts: list[str] = []
    for error in errors:
        loc = error.get("loc", ())
        unparsable = error.get("type") == "json_invalid"
        whole = tuple(loc) == ("body",) and error.get("type") in _NOT_AN_OBJECT  # type: ignore[arg-type]
        too_long: str | None = None
        if unparsable:
            field, message = "body", _json_invalid(error)
        elif whole:
            field, message = "body", _not_an_object(content_type)
        else:
            field = ".".join(str(p) for p in loc if p != "body") or "body"  # type: ignore[attr-defined]
            too_long = _too_long_query(error, query_limit)
            message = too_long or str(error.get("msg", "invalid")).removeprefix(_VALUE_ERROR)
        # A field name can be a client's dict key: escape what JSON cannot carry.
        field = field.encode("utf-8", "backslashreplace").decode()
        message = message.encode("utf-8", "backslashreplace").decode()
        # The JSON message names the body already; "body: request body ..." would stutter.
        # The too-long message names the query already, as the retriever's own does.
        bare = unparsable or whole or too_long is not None
        parts.append(message if bare else f"{field}: {message}")
        details.append({"field": field, "message": message})
    return "; ".join(parts), details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DocqaError)
    async def domain_error(_request: Request, exc: DocqaError) -> JSONResponse:
        status, body = error_body(exc)
        headers = _CHALLENGE if status == 401 else None
        return error_response(status, str(body["code"]), str(body["message"]), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        services = getattr(request.app.state, "services", None)
        limit = services.settings.max_query_chars if services is not None else None
        content_type = request.headers.get("content-type", "")
        message, details = _readable(list(exc.errors()), content_type, limit)
        return error_response(422, "invalid_request", message, details)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        # 413 also comes from the body limit, raised while FastAPI reads the body.
        code = "too_large" if exc.status_code == 413 else f"http_{exc.status_code}"
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # The message stays generic: internals (paths, SQL) are for the log, not the client.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error; see the server log")
