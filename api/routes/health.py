"""``GET /health``: is the model loaded, how big is the index."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import HealthResponse
from index.errors import IndexNotFoundError
from index.version import package_version

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
def health(services: ServicesDep) -> HealthResponse:
    """Model name and index size; ``status`` is ``no_index`` until an index is built."""
    embedder = services.embedders[0]
    encoders = [e.name for e in services.embedders]
    try:
        snapshot = services.retriever().handle.current()
    except IndexNotFoundError:
        return HealthResponse(
            status="no_index",
            model=embedder.name,
            encoders=encoders,
            dimension=embedder.dimension,
            passages=0,
            documents=0,
            generation=None,
            version=package_version(),
        )
    return HealthResponse(
        status="ok",
        model=embedder.name,
        encoders=encoders,
        dimension=embedder.dimension,
        passages=snapshot.manifest.count,
        documents=snapshot.manifest.documents,
        generation=snapshot.generation,
        version=package_version(),
    )
