"""Server-Sent Events framing."""

from __future__ import annotations

import json

MEDIA_TYPE = "text/event-stream"
# Proxies (nginx) buffer responses unless told not to, which would hold events back.
HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def event(name: str | None, data: object) -> bytes:
    """One event; ``data`` as compact JSON on one line (JSON escapes newlines)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


def openapi_content(events: list[str] | None) -> dict[str, object]:
    """OpenAPI ``content`` entry for a stream: the schema of one event as tools parse it
    (``{"event": name, "data": text}``); ``events`` lists the names, None for unnamed."""
    properties: dict[str, object] = {"data": {"type": "string"}}
    if events is not None:
        properties["event"] = {"type": "string", "enum": events}
    return {
        MEDIA_TYPE: {"schema": {"type": "object", "required": ["data"], "properties": properties}}
    }
