"""``GET /v1/models``: the one model name OpenAI clients can pick."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReadAccess
from api.schemas import ModelCard, ModelList, error_responses

router = APIRouter(tags=["chat"], dependencies=[ReadAccess])

MODEL_ID = "docqa"
_CREATED = 1_700_000_000  # fixed: the "model" is this service, not a dated checkpoint


@router.get("/models", response_model=ModelList, responses=error_responses(401, 403))
def list_models() -> ModelList:
    """OpenAI-compatible model list (chat frontends call it before the first question)."""
    return ModelList(data=[ModelCard(id=MODEL_ID, created=_CREATED)])
