"""``GET /v1/documents/{id}/pages/{n}``: a PDF page as PNG, citation boxes highlighted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi import Path as PathParam

from api.deps import ReadAccess, ServicesDep
from api.schemas import error_responses
from index.errors import DocumentNotFoundError
from index.formats.pdf.boxes import PageBox
from index.formats.pdf.render import render_page_png

router = APIRouter(tags=["documents"])

MAX_HIGHLIGHT_BOXES = 500

HighlightQuery = Annotated[
    str | None,
    Query(
        max_length=40_000,
        description="Boxes to draw, in PDF points (origin bottom-left), as the citation's "
        "`boxes` give them: 'x0,y0,x1,y1' joined by ';'.",
    ),
]


def _boxes(raw: str | None, page: int) -> list[PageBox]:
    if not raw:
        return []
    parts = [p for p in raw.split(";") if p.strip()]
    if len(parts) > MAX_HIGHLIGHT_BOXES:
        raise HTTPException(422, f"highlight: at most {MAX_HIGHLIGHT_BOXES} boxes")
    boxes = []
    for part in parts:
        try:
            x0, y0, x1, y1 = (float(v) for v in part.split(","))
        except ValueError as exc:
            raise HTTPException(
                422, f"highlight: {part!r} is not four numbers 'x0,y0,x1,y1'"
            ) from exc
        boxes.append(PageBox(page, x0, y0, x1, y1))
    return boxes


@router.get(
    "/documents/{document_id}/pages/{page}",
    response_class=Response,
    dependencies=[ReadAccess],
    responses={200: {"content": {"image/png": {}}}, **error_responses(401, 403, 404, 422, 503)},
)
def page_image(
    document_id: str,
    page: Annotated[int, PathParam(ge=1, le=100_000, description="1-based page number.")],
    services: ServicesDep,
    highlight: HighlightQuery = None,
    width: Annotated[
        int | None,
        Query(
            ge=50,
            le=10_000,
            description="Image width in pixels; wider than DOCQA_PAGE_IMAGE_MAX_WIDTH renders "
            "at that width.",
        ),
    ] = None,
) -> Response:
    """Render one page of an indexed PDF; ``width`` is capped by ``page_image_max_width``."""
    limit = services.settings.page_image_max_width
    if width is not None:
        width = min(width, limit)  # the operator's cap, not the client's, bounds the render
    store = services.retriever().handle.current().store
    source = store.document(document_id).source  # raises DocumentNotFoundError: a 404
    if Path(source).suffix.lower() != ".pdf":
        raise DocumentNotFoundError(f"document {document_id!r} is not a PDF: it has no pages")
    png = render_page_png(Path(source), page, width or min(1000, limit), _boxes(highlight, page))
    return Response(png, media_type="image/png")
