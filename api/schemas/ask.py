"""``POST /v1/ask``: the best answer and the passages it cites."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.inputs import WholeNumber
from api.schemas.search import HitOut, QuestionIn, SpanOut
from retriever.types import Mode

ASK_MAX_TOP_K = 20  # every passage goes through the span model: keep the work per question small
MAX_TURNS = 20  # only the last few turns feed a follow-up (retriever.conversation)


class TurnIn(BaseModel):
    """One earlier message of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20_000)


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
    conversation: list[TurnIn] = Field(
        default_factory=list,
        max_length=MAX_TURNS,
        description='Earlier turns, oldest first: a follow-up ("When was it signed?") is '
        "searched with their key terms added, weighted below the question.",
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
    spans: list[SpanOut] = Field(
        description="Every answer span, in document offsets: the answer above first, then "
        "further answers of the same kind the passage lists with it (both signers of an "
        "agreement), in passage order; PDF passages give each span's boxes."
    )


class AskResponse(BaseModel):
    query: str
    search_query: str = Field(description="What was searched: the query plus context terms.")
    mode: Mode
    generation: int
    found: bool = Field(
        description="False when the documents do not seem to hold the answer; the passages "
        "are then the closest ones."
    )
    answer: AnswerOut | None = Field(description="None when not found.")
    passages: list[HitOut]
    took_ms: float
