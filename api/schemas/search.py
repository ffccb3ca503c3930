"""Search request and response models, and the hit/citation shapes others reuse."""

from __future__ import annotations

import datetime
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas.inputs import CleanText, RequiredText, WholeNumber
from retriever.answer.choice import MAX_MARKED_HITS
from retriever.searcher import MAX_TOP_K
from retriever.types import Mode

_ISO_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
Scalar = CleanText | int | float | bool


class FiltersIn(BaseModel):
    """Metadata conditions; a document must meet all that are given."""

    model_config = ConfigDict(extra="forbid")

    tags: CleanText | list[CleanText] | None = Field(
        None, description="At least one of these tags."
    )
    date_from: str | None = Field(None, pattern=_ISO_DATE, description="date >= this (ISO).")
    date_to: str | None = Field(None, pattern=_ISO_DATE, description="date <= this (ISO).")
    document_ids: list[CleanText] | None = Field(None, max_length=1000)
    metadata: dict[CleanText, Scalar] | None = Field(
        None, description="Other metadata fields that must equal these values."
    )

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _real_date(cls, value: object) -> object:
        """A bound is a real date in the pattern's shape ("yesterday" and "2024-13-01" are
        not), checked before the pattern so both get this message."""
        if isinstance(value, str):
            try:
                if not re.fullmatch(_ISO_DATE, value):
                    raise ValueError
                year, month, day = (value.split("-") + ["01", "01"])[:3]
                datetime.date(int(year), int(month), int(day))
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> FiltersIn:
        if self.date_from and self.date_to and self.date_from[: len(self.date_to)] > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self


class QuestionIn(BaseModel):
    """The fields every question-taking request shares (search, ask)."""

    model_config = ConfigDict(extra="forbid")

    query: RequiredText = Field(
        ...,
        min_length=1,
        max_length=20_000,  # the served schema shows the configured limit (max_query_chars)
        description="The question.",
    )
    mode: Mode | None = Field(None, description="dense, lexical or hybrid (default: setting).")
    filters: FiltersIn | None = Field(None, description="Restrict to matching documents.")


class SearchRequest(QuestionIn):
    """Body of ``POST /search``."""

    # The schema states the answers/top_k rule too, so clients and generated ones know it.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"answers": {"const": True}}, "required": ["answers"]},
            "then": {"properties": {"top_k": {"maximum": MAX_MARKED_HITS}}},
        },
    )

    # strict: "5" or true is not a number of hits, "yes" not a boolean.
    top_k: WholeNumber = Field(5, ge=1, le=MAX_TOP_K, description="How many passages to return.")
    answers: bool = Field(
        False,
        strict=True,
        description="Mark the answer span and its sentence inside every hit (runs the span "
        "model on each returned passage: about 50 ms per passage on one CPU core); "
        f"allowed with top_k up to {MAX_MARKED_HITS}.",
    )

    @model_validator(mode="after")
    def _answers_need_few_hits(self) -> SearchRequest:
        if self.answers and self.top_k > MAX_MARKED_HITS:
            raise ValueError(
                f"answers: true marks at most {MAX_MARKED_HITS} hits; "
                f"ask for top_k <= {MAX_MARKED_HITS} (got {self.top_k})"
            )
        return self


class BoxOut(BaseModel):
    """A highlight rectangle on a PDF page: PDF points, origin at the bottom-left."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float


class SpanOut(BaseModel):
    """A span of the document text: ``document.text[char_start:char_end] == text``."""

    text: str
    char_start: int
    char_end: int
    boxes: list[BoxOut] = Field(
        default_factory=list, description="PDF only: one box per line of the span."
    )


class CitationOut(BaseModel):
    document_id: str
    title: str
    source: str
    paragraph: int
    char_start: int = Field(description="Offset of the passage in the document text.")
    char_end: int
    page: int | None = None
    section: str | None = None
    pages: list[int] = Field(default_factory=list, description="PDF only: pages spanned.")
    boxes: list[BoxOut] = Field(
        default_factory=list, description="PDF only: one box per line of the passage."
    )


class HitOut(BaseModel):
    rank: int
    score: float = Field(description="Ranking score: compares the hits of one question only.")
    relevance: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Calibrated chance that this passage answers the question, on its own "
        "(not relative to the other hits); on /v1/ask and chat it includes the answer "
        "reader's evidence. Null where no relevance model applies (dense or lexical mode, "
        "an index without sentence vectors, a cross-encoder second stage).",
    )
    passage_id: str
    text: str
    char_start: int
    char_end: int
    citation: CitationOut
    answer: SpanOut | None = None
    sentence: SpanOut | None = None


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    generation: int
    results: list[HitOut]
    took_ms: float
