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
    found_rule,
    load_answer_extractor,
    load_encoders,
    load_second_stage,
    passage_limits,
    search_options,
    search_relevance,
    vector_store,
)
from index.encoders.base import Encoder
from retriever.answer.types import AnswerExtractor

EncoderFactory = Callable[[Settings], Sequence[Encoder]]
ExtractorFactory = Callable[[Settings], AnswerExtractor | None]


def load_engines(
    settings: Settings,
    encoder_factory: EncoderFactory = load_encoders,
    extractor_factory: ExtractorFactory = load_answer_extractor,
) -> Engines:
    """Everything the API serves with, built from ``settings`` (run in the lifespan)."""
    encoders = encoder_factory(settings)
    for encoder in encoders:
        # Opens the question sessions (one question, a batch) now, not on the first
        # request: encoders open them lazily so that indexing never loads them.
        encoder.encode_queries(["warm up"])
        encoder.encode_queries(["warm up", "warm up again"])
    return Engines(
        encoders=encoders,
        extractor=extractor_factory(settings),
        vector_store=vector_store(settings),
        options=search_options(settings),
        ann=ann_policy(settings),
        second_stage=load_second_stage(settings),
        extract_limits=extract_limits(settings),
        passage_limits=passage_limits(settings),
        relevance=search_relevance(settings),
        found_rule=found_rule(settings),
    )


def create_app(
    settings: Settings | None = None,
    encoder_factory: EncoderFactory = load_encoders,
    extractor_factory: ExtractorFactory = load_answer_extractor,
) -> FastAPI:
    """The app over ``settings`` (default: the environment); the factories let tests
    inject fake encoders and extractors."""
    return api_app.create_app(
        settings or Settings(),
        lambda config: load_engines(config, encoder_factory, extractor_factory),
    )
