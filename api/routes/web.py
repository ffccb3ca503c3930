"""``GET /``: the chat page (plain HTML/JS/CSS shipped in ``api/static``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

# Not in the OpenAPI schema: it is a page for people, not an API operation.
router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """The web chat page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")
