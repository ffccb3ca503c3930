"""The FastAPI application; models and the index are loaded in ``lifespan``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.deps import Services
from api.errors import install_error_handlers
from api.routes import documents, health, search
from docqa.settings import Settings
from index.embedder import Embedder
from index.version import package_version

EmbedderFactory = Callable[[Settings], Sequence[Embedder]]


def _default_embedders(settings: Settings) -> Sequence[Embedder]:
    from docqa.wiring import load_embedders

    return load_embedders(settings)


def create_app(
    settings: Settings | None = None, embedder_factory: EmbedderFactory = _default_embedders
) -> FastAPI:
    """Build the app; ``embedder_factory`` lets tests inject fake encoders."""
    config = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services(config, embedder_factory(config))
        yield

    app = FastAPI(
        title="docqa",
        version=package_version(),
        description="Ask a question, get ranked paragraphs with citations.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (search, health, documents):
        app.include_router(module.router)
    return app
