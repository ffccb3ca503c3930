"""The served app: the API over engines loaded from Settings (``docqa serve`` runs it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import FastAPI

from api import app as api_app
from api.deps import Engines
from docqa.settings import Settings
from docqa.wiring import (
    ann_policy,
    extract_limits,
    load_answer_extractor,
    load_embedders,
    load_second_stage,
    passage_limits,
    search_options,
    vector_store,
)
from index.encoders.base import Embedder
from retriever.answer.loading import Extractor

EmbedderFactory = Callable[[Settings], Sequence[Embedder]]
ExtractorFactory = Callable[[Settings], Extractor | None]


def load_engines(
    settings: Settings,
    embedder_factory: EmbedderFactory = load_embedders,
    extractor_factory: ExtractorFactory = load_answer_extractor,
) -> Engines:
    """Everything the API serves with, built from ``settings`` (run in the lifespan)."""
    return Engines(
        embedders=embedder_factory(settings),
        extractor=extractor_factory(settings),
        vector_store=vector_store(settings),
        options=search_options(settings),
        ann=ann_policy(settings),
        second_stage=load_second_stage(settings),
        extract_limits=extract_limits(settings),
        passage_limits=passage_limits(settings),
    )


def create_app(
    settings: Settings | None = None,
    embedder_factory: EmbedderFactory = load_embedders,
    extractor_factory: ExtractorFactory = load_answer_extractor,
) -> FastAPI:
    """The app over ``settings`` (default: the environment); the factories let tests
    inject fake encoders and extractors."""
    return api_app.create_app(
        settings or Settings(),
        lambda config: load_engines(config, embedder_factory, extractor_factory),
    )
