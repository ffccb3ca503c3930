"""Shared objects built in the lifespan and handed to routes with ``Depends``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.auth import KeyRing, Scope, presented_key
from api.sources import source_view
from api.uploads import UploadInbox
from docqa.settings import Settings
from index.encoders.base import Encoder
from index.encoders.specs import as_encoders, specs_of
from index.errors import IndexNotFoundError
from index.formats.sandbox import ExtractLimits
from index.lifecycle.handle import IndexHandle
from index.passages.bounds import PassageLimits
from index.stores.base import AnnPolicy, VectorStore
from retriever.answer.found import FoundRule
from retriever.answer.types import AnswerExtractor
from retriever.relevance import RelevanceModel
from retriever.rerank import Reranker
from retriever.searcher import Retriever, SearchOptions


@dataclass(frozen=True)
class Engines:
    """What the API serves with, loaded from Settings in the lifespan (``docqa.server``)."""

    encoders: Sequence[Encoder]
    extractor: AnswerExtractor | None
    vector_store: VectorStore
    options: SearchOptions
    ann: AnnPolicy
    second_stage: Reranker | None
    extract_limits: ExtractLimits = ExtractLimits()
    passage_limits: PassageLimits = PassageLimits()
    relevance: RelevanceModel | None = None  # of search hits
    found_rule: FoundRule = FoundRule()


EngineLoader = Callable[[Settings], Engines]


class Services:
    """The encoders and answer extractor (loaded once at startup), the retriever, uploads.

    The index may not exist yet when the server starts; it is opened on first use,
    so a server started before ``docqa index`` picks the index up once it is built.
    """

    def __init__(self, settings: Settings, engines: Engines) -> None:
        self.settings = settings
        self.encoders = as_encoders(engines.encoders)
        self.extractor = engines.extractor
        self.options = engines.options
        self.relevance = engines.relevance
        self.found_rule = engines.found_rule
        self.keys = KeyRing.of(settings.api_keys_read, settings.api_keys_write)
        root = settings.source_root
        self.show_source = source_view(
            None if root is None else str(root.expanduser().resolve()), settings.show_source_paths
        )
        self.vector_store = engines.vector_store
        self.uploads = UploadInbox(
            settings.upload_dir(),
            settings.index_dir,
            self.encoders,
            batch_size=settings.batch_size,
            max_file_bytes=settings.max_upload_bytes,
            wait_seconds=settings.write_wait_seconds,
            ann=engines.ann,
            sentence_vectors=settings.sentence_vectors,
            sentence_pooling=settings.sentence_pooling,
            vector_store=self.vector_store,
            extract_limits=engines.extract_limits,
            passage_limits=engines.passage_limits,
            upload_timeout_s=settings.upload_timeout_s,
        )
        # Set on SIGTERM/SIGINT and at shutdown: running uploads stop and commit nothing.
        self.stopping = threading.Event()
        # Loaded here, in the lifespan, once: a cross-encoder is a model like the others.
        self.second_stage = engines.second_stage
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()
        try:
            self.retriever()
        except IndexNotFoundError:
            pass

    def retriever(self) -> Retriever:
        """The retriever; raises IndexNotFoundError while there is no index."""
        if self._retriever is None:
            with self._lock:
                if self._retriever is None:
                    handle = IndexHandle(
                        self.settings.index_dir,
                        specs_of(self.encoders),
                        mmap=self.settings.mmap,
                        vector_store=self.vector_store,
                    )
                    self._retriever = Retriever(
                        handle, self.encoders, self.options, self.second_stage, self.relevance
                    )
        return self._retriever


# The dependencies below are ``async`` although they do not await: FastAPI runs a plain
# ``def`` dependency in its thread pool, a hop (and a GIL hand-over) per request each.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

# Declared as security schemes so /docs shows them; auto_error=False because keys are optional.
_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key header.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
ApiKeyDep = Annotated[str | None, Depends(_api_key)]


def _key(bearer: HTTPAuthorizationCredentials | None, header: str | None) -> str | None:
    return presented_key(f"Bearer {bearer.credentials}" if bearer else None, header)


async def require_read(services: ServicesDep, bearer: BearerDep, header: ApiKeyDep) -> None:
    """Refuse the request unless keys are off or it carries a read or write key."""
    services.keys.check(_key(bearer, header), Scope.READ)


async def require_write(services: ServicesDep, bearer: BearerDep, header: ApiKeyDep) -> None:
    """Refuse the request unless keys are off or it carries a write key."""
    services.keys.check(_key(bearer, header), Scope.WRITE)


ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)
