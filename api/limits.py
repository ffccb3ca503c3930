"""Refuse request bodies over the configured size with 413, before and while reading them.

The limit is chosen by route, never by what the client declares: only an upload to
``/documents`` may send ``max_upload`` bytes; every other request gets ``max_body``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once a body grows past the limit.

    An ``HTTPException`` on purpose: FastAPI re-raises those from body parsing (other
    errors become a generic 400), so the app's handler renders the usual error shape.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")


def closing_reply(
    status: int, error: dict[str, object], extra: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[Message, Message]:
    """A JSON error answered before the body is read, closing the connection (the unread
    body must not be taken for a next request)."""
    body = json.dumps({"error": error}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *extra,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _too_large(limit: int) -> tuple[Message, Message]:
    return closing_reply(413, {"code": "too_large", "message": BodyTooLargeError(limit).detail})


UPLOAD_PATHS = frozenset({"/documents", "/v1/documents"})


def is_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope.get("path", "").rstrip("/") in UPLOAD_PATHS


class BodyLimitMiddleware:
    """``max_upload`` for ``POST /documents``, ``max_body`` for everything else."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    def _limit(self, scope: Scope) -> tuple[int, int | None]:
        limit = self.max_upload if is_upload(scope) else self.max_body
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None  # the server rejects a malformed length itself
        return limit, declared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, declared = self._limit(scope)
        if declared is not None and declared > limit:
            # Refuse on the header alone: nothing of the body is read or buffered.
            for message in _too_large(limit):
                await send(message)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # chunked bodies carry no length to check up front
                    raise BodyTooLargeError(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if started:
                raise
            for message in _too_large(limit):
                await send(message)
