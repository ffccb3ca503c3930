"""The server scripts/attack.py attacks: one docqa API process on loopback, a write key set.

    python scripts/attack_server.py INDEX_DIR PORT fake|real KEY

``fake`` serves with the keyword encoder of the test suite (a checkout only; fast, for
CI); ``real`` with the shipped models as configured by the environment (DOCQA_*).
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from common import ROOT

from docqa.server import create_app
from docqa.settings import Settings


def main() -> None:
    index_dir, port, encoder, key = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    settings = Settings(index_dir=index_dir, api_keys_write=[key], answers=encoder == "real")
    if encoder == "fake":
        sys.path.insert(0, str(ROOT))
        from tests.fakes import KeywordEncoder

        app = create_app(
            settings,
            encoder_factory=lambda _s: [KeywordEncoder()],
            extractor_factory=lambda _s: None,
        )
    else:
        app = create_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
