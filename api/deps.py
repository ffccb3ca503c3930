"""Shared objects built in the lifespan and handed to routes with ``Depends``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from docqa.settings import Settings
from index.embedder import Embedder
from index.encoders import as_encoders, specs_of
from index.errors import IndexNotFoundError
from index.handle import IndexHandle
from retriever.searcher import Retriever


class Services:
    """The encoder (loaded once at startup) and the retriever over the index.

    The index may not exist yet when the server starts; it is opened on first use,
    so a server started before ``docqa index`` picks the index up once it is built.
    """

    def __init__(self, settings: Settings, embedders: Sequence[Embedder]) -> None:
        self.settings = settings
        self.embedders = as_encoders(embedders)
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
                        specs_of(self.embedders),
                        mmap=self.settings.mmap,
                    )
                    self._retriever = Retriever(
                        handle, self.embedders, self.settings.search_options()
                    )
        return self._retriever


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
