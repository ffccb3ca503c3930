"""Request and response models of the HTTP API (pydantic lives only here)."""

from api.schemas.ask import ASK_MAX_TOP_K, AnswerOut, AskRequest, AskResponse
from api.schemas.chat import (
    ChatChoice,
    ChatCitation,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessageIn,
    ChatMessageOut,
    ModelCard,
    ModelList,
    Usage,
)
from api.schemas.common import ErrorBody, ErrorResponse, HealthResponse, error_responses
from api.schemas.documents import (
    DeleteResponse,
    DocumentList,
    DocumentOut,
    DocumentText,
    UploadedDocument,
    UploadResponse,
)
from api.schemas.search import (
    BoxOut,
    CitationOut,
    FiltersIn,
    HitOut,
    SearchRequest,
    SearchResponse,
    SpanOut,
)

__all__ = [
    "ASK_MAX_TOP_K",
    "AnswerOut",
    "AskRequest",
    "AskResponse",
    "ChatChoice",
    "ChatCitation",
    "ChatCompletion",
    "ChatCompletionRequest",
    "ChatMessageIn",
    "ChatMessageOut",
    "BoxOut",
    "CitationOut",
    "DeleteResponse",
    "DocumentList",
    "DocumentOut",
    "DocumentText",
    "ErrorBody",
    "ErrorResponse",
    "FiltersIn",
    "HealthResponse",
    "HitOut",
    "ModelCard",
    "ModelList",
    "SearchRequest",
    "SearchResponse",
    "SpanOut",
    "Usage",
    "UploadResponse",
    "UploadedDocument",
    "error_responses",
]
