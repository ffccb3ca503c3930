"""The FastAPI application; models and the index are loaded in ``lifespan``.

Routes live under ``/v1``; the unversioned ``/search``, ``/ask`` and ``/documents``
paths of the first release stay as aliases (same handlers, marked deprecated).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api.auth import KeyRing
from api.deps import EngineLoader, Services
from api.errors import install_error_handlers
from api.gate import EarlyAuthMiddleware
from api.limits import BodyLimitMiddleware
from api.metrics import IndexSize, Metrics, MetricsMiddleware
from api.routes import ask, chat, documents, health, metrics, models, pages, search, web
from api.routes.web import STATIC_DIR
from api.shutdown import stop_on_signals
from docqa.settings import Settings
from index.errors import DocqaError
from index.lifecycle.version import package_version


def _index_size(app: FastAPI) -> IndexSize | None:
    services: Services | None = getattr(app.state, "services", None)
    if services is None:
        return None
    try:
        snapshot = services.retriever().handle.current()
    except DocqaError:
        return None
    return IndexSize(snapshot.manifest.count, snapshot.manifest.documents, snapshot.generation)


def _show_query_limit(app: FastAPI, max_chars: int) -> None:
    """Make the served schema state the configured query length limit.

    The request models allow the hard maximum; the setting is a runtime value, so the
    schema is patched once when first generated, and clients see the real limit.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for name in ("SearchRequest", "AskRequest"):
                query = schema["components"]["schemas"][name]["properties"]["query"]
                query["maxLength"] = min(query["maxLength"], max_chars)
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(config: Settings, load: EngineLoader) -> FastAPI:
    """Build the app over ``config``; ``load`` builds its encoders, extractor and stores.

    The loading lives above the API (``docqa.server.create_app`` passes the one built
    from Settings; tests pass fakes), so the API receives its engines ready.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engines = await run_in_threadpool(load, config)
        services = Services(config, engines)
        app.state.services = services
        with stop_on_signals(services.stopping):
            yield
        services.stopping.set()

    app = FastAPI(
        title="docqa",
        version=package_version(),
        description="Ask a question, get the answer and ranked paragraphs with citations.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (search, ask, documents):
        app.include_router(module.router, prefix="/v1")
        app.include_router(module.router, deprecated=True)  # the first release's paths
    for module in (chat, models, pages):
        app.include_router(module.router, prefix="/v1")
    for module in (health, metrics, web):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _show_query_limit(app, config.max_query_chars)

    app.state.metrics = Metrics(lambda: _index_size(app))
    # Added innermost first: metrics see every response (413s and CORS preflights too).
    app.add_middleware(
        BodyLimitMiddleware, max_body=config.max_body_bytes, max_upload=config.max_upload_bytes
    )
    # Outside the body limit: a request without a valid key is refused before any of its
    # body is read, whatever its size.
    app.add_middleware(
        EarlyAuthMiddleware, keys=KeyRing.of(config.api_keys_read, config.api_keys_write)
    )
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["authorization", "content-type", "x-api-key"],
        )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
