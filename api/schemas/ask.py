"""``POST /v1/ask``: the best answer and the passages it cites."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.inputs import WholeNumber
from api.schemas.search import HitOut, QuestionIn
from retriever.types import Mode

ASK_MAX_TOP_K = 20  # every passage goes through the span model: keep the work per question small


class AskRequest(QuestionIn):
    """Body of ``POST /v1/ask``."""

    top_k: WholeNumber = Field(
        5, ge=1, le=ASK_MAX_TOP_K, description="Passages to read the answer from."
    )
    stream: bool = Field(
        False,
        strict=True,
        description="Answer as Server-Sent Events: passages, then answer, then done.",
    )


class AnswerOut(BaseModel):
    text: str
    kind: Literal["extracted", "sentence", "passage"] = Field(
        description="extracted: the span model's answer; sentence / passage: a fallback "
        "(no answer span was found, or the span model is not installed)."
    )
    fallback: bool = Field(description="True when kind is not extracted.")
    score: float
    citation: int = Field(description="1-based number of the passage in `passages` it cites.")
    document_id: str
    char_start: int = Field(description="Offset of the answer in the document text.")
    char_end: int


class AskResponse(BaseModel):
    query: str
    mode: Mode
    generation: int
    answer: AnswerOut | None = Field(description="None when no passage was retrieved.")
    passages: list[HitOut]
    took_ms: float
