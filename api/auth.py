"""Optional API keys with two scopes: ``read`` (search, ask, chat, documents) and ``write``.

With no keys configured the API is open. Keys are accepted as ``Authorization: Bearer KEY``
(what OpenAI clients send) or ``X-API-Key: KEY``. A write key can also read.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from index.errors import DocqaError


class AuthError(DocqaError):
    """Base of the errors that refuse a request for its credentials."""


class MissingKeyError(AuthError):
    """Keys are configured and the request carries none."""


class InvalidKeyError(AuthError):
    """The request's key is not one of the configured keys."""


class ForbiddenError(AuthError):
    """The key is valid but lacks the scope the endpoint needs."""


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


def _known(key: str, keys: Iterable[str]) -> bool:
    # Compare against every key in constant time so timing reveals neither key nor position.
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


@dataclass(frozen=True)
class KeyRing:
    """The configured keys per scope."""

    read: frozenset[str]
    write: frozenset[str]

    @classmethod
    def of(cls, read: Iterable[str], write: Iterable[str]) -> KeyRing:
        return cls(frozenset(k for k in read if k), frozenset(k for k in write if k))

    @property
    def enabled(self) -> bool:
        return bool(self.read or self.write)

    def check(self, key: str | None, scope: Scope) -> None:
        """Allow the request or raise an :class:`AuthError` saying why not."""
        if not self.enabled:
            return
        if not key:
            raise MissingKeyError(
                "this server requires an API key: send 'Authorization: Bearer KEY' or 'X-API-Key'"
            )
        if _known(key, self.write):
            return
        if not _known(key, self.read):
            raise InvalidKeyError("the API key is not valid")
        if scope is Scope.WRITE:
            raise ForbiddenError("this API key may only read; writing needs a write key")


def presented_key(authorization: str | None, api_key_header: str | None) -> str | None:
    """The key a request carries, from either header."""
    if api_key_header:
        return api_key_header.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None
