"""Check API keys before a request body is read.

Route dependencies run only after FastAPI has read and parsed the body, so a client
without a key could still make the server receive and parse a 50 MB upload. This ASGI
middleware refuses such requests from their headers alone: an upload (or delete) needs
a write key, any other request with a body a read key. Routes still check keys too.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import AuthError, KeyRing, presented_key
from api.auth import Scope as KeyScope
from api.errors import error_body
from api.limits import closing_reply, is_upload


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _needed(scope: Scope) -> KeyScope | None:
    method = scope.get("method")
    if is_upload(scope) or (method == "DELETE" and "/documents/" in scope.get("path", "")):
        return KeyScope.WRITE
    return KeyScope.READ if method in {"POST", "PUT", "PATCH"} and _has_body(scope) else None


class EarlyAuthMiddleware:
    """Answer 401/403 before the body of a keyless (or under-scoped) request is read."""

    def __init__(self, app: ASGIApp, *, keys: KeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        needed = _needed(scope) if scope["type"] == "http" and self.keys.enabled else None
        if needed is not None:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            key = presented_key(headers.get("authorization"), headers.get("x-api-key"))
            try:
                self.keys.check(key, needed)
            except AuthError as exc:
                await _refuse(send, exc)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, exc: AuthError) -> None:
    status, error = error_body(exc)  # the same status and code as the routes' own checks
    challenge = [(b"www-authenticate", b"Bearer")] if status == 401 else []
    for message in closing_reply(status, error, challenge):
        await send(message)
