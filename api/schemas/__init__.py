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
    ContextPassage,
    DeleteResponse,
    DocumentList,
    DocumentOut,
    DocumentText,
    PassageContext,
    UploadedDocument,
    UploadResponse,
)
from api.schemas.search import (
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
    "CitationOut",
    "ContextPassage",
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
    "PassageContext",
    "SearchRequest",
    "SearchResponse",
    "SpanOut",
    "Usage",
    "UploadResponse",
    "UploadedDocument",
    "error_responses",
]
