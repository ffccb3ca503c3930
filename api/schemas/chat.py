"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models`` shapes.

Requests accept (and ignore) the sampling options chat frontends send, so any OpenAI
client works unchanged; responses add one field, ``citations``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.schemas.ask import ASK_MAX_TOP_K
from api.schemas.inputs import CleanText, WholeNumber, required_text_pattern
from api.schemas.search import FiltersIn, SpanOut
from retriever.types import Mode


def _user_question(schema: JsonDict) -> None:
    # What the route needs of `messages`, stated in the schema so clients and fuzzers know it.
    schema["contains"] = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"const": "user"},
            "content": {"type": "string", "pattern": required_text_pattern()},
        },
    }


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: CleanText
    text: CleanText | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: CleanText | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """The OpenAI request; the last user message is the question."""

    # temperature, max_tokens, n, user, ... are accepted and ignored: the answer is extractive.
    model_config = ConfigDict(extra="ignore")

    model: CleanText = Field("docqa", max_length=200)
    messages: list[ChatMessageIn] = Field(
        ...,
        min_length=1,
        max_length=1000,
        description="The conversation; it must hold a user message with text (the question).",
        json_schema_extra=_user_question,
    )
    stream: bool = Field(False, strict=True)
    top_k: WholeNumber = Field(5, ge=1, le=ASK_MAX_TOP_K, description="docqa: passages to read.")
    mode: Mode | None = Field(None, description="docqa: dense, lexical or hybrid.")
    filters: FiltersIn | None = Field(None, description="docqa: restrict to these documents.")


class ChatCitation(BaseModel):
    number: int = Field(description="The [n] used in the answer text.")
    document_id: str
    passage_id: str
    title: str
    source: str
    paragraph: int
    page: int | None = None
    section: str | None = None
    char_start: int = Field(description="Offset of the cited passage in the document text.")
    char_end: int
    text: str = Field(description="The cited passage.")
    answer: SpanOut | None = Field(None, description="The answer span, in document offsets.")
    score: float


class ChatMessageOut(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatMessageOut
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[ChatCitation]
    found: bool = Field(
        description="docqa: false when the documents do not seem to hold the answer (the "
        "reply then says so and cites nothing)."
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "docqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
