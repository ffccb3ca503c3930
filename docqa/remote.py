"""Ask a running ``docqa serve`` instead of loading models (``--server`` / ``DOCQA_SERVER_URL``).

A CLI search that loads both encoders and the index takes a second or more before it
can answer; a server has them loaded, so through it a search costs one HTTP request.
The standard library's client is enough for one JSON request and imports in a few ms.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from index.errors import DocqaError


class RemoteError(DocqaError):
    """The server could not be reached, or refused the request (its message is kept)."""


def post(
    server: str, path: str, body: dict[str, Any], key: str | None, timeout: float
) -> dict[str, Any]:
    """POST ``body`` as JSON to ``server`` + ``path`` and return the JSON answer.

    Raises:
        RemoteError: the server is unreachable, times out, or answers with an error.
    """
    url = server.rstrip("/") + path
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            found: dict[str, Any] = json.loads(response.read())
            return found
    except urllib.error.HTTPError as exc:
        raise RemoteError(f"{url} answered {exc.code}: {_message(exc)}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RemoteError(f"cannot reach the docqa server at {server}: {reason}") from exc
    except ValueError as exc:
        raise RemoteError(f"{url} did not answer JSON: is {server} a docqa server?") from exc


def _message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read())
    except (ValueError, OSError):
        return str(error.reason)
    found = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(found, dict):
        return str(found.get("message") or found.get("detail") or found)
    return str(found)
