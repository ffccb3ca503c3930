"""``GET /health``: is the model loaded, how big is the index."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import HealthResponse
from index.errors import IndexNotFoundError
from index.lifecycle.version import package_version

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
def health(services: ServicesDep) -> HealthResponse:
    """Model name and index size; ``status`` is ``no_index`` until an index is built.

    Open without an API key, for load balancers and uptime checks.
    """
    encoder = services.encoders[0]
    common = {
        "model": encoder.name,
        "encoders": [e.name for e in services.encoders],
        "dimension": encoder.dimension,
        "answers": "fallback" if services.extractor is None else "extractive",
        "version": package_version(),
    }
    try:
        snapshot = services.retriever().handle.current()
    except IndexNotFoundError:
        return HealthResponse(status="no_index", passages=0, documents=0, generation=None, **common)
    return HealthResponse(
        status="ok",
        passages=snapshot.manifest.count,
        documents=snapshot.manifest.documents,
        generation=snapshot.generation,
        **common,
    )
