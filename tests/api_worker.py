"""One API process over the index in argv[1], for the multi-process tests.

    python -m tests.api_worker INDEX_DIR PORT [DELAY_PER_TEXT_S]

Uses the keyword encoder and no answer extractor; the vector store comes from the
environment (``DOCQA_VECTOR_STORE``, ``DOCQA_MILVUS_URI``), as it would in production.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from docqa.server import create_app
from docqa.settings import Settings
from tests.fakes import KeywordEncoder, SlowEncoder


def main() -> None:
    index_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    embedder = SlowEncoder(delay) if delay else KeywordEncoder()
    app = create_app(
        Settings(index_dir=index_dir, answers=False),
        encoder_factory=lambda _s: [embedder],
        extractor_factory=lambda _s: None,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
