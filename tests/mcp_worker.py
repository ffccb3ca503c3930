"""The MCP server over stdio with the keyword encoder and a fake span reader.

    python -m tests.mcp_worker INDEX_DIR ANSWER

The stdio transport starts the server as a subprocess; this is that subprocess in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from api.deps import Services
from docqa.mcp_server import build_server
from docqa.server import load_engines
from docqa.settings import Settings
from tests.api_support import FakeExtractor
from tests.fakes import KeywordEncoder


def main() -> None:
    index_dir, answer = Path(sys.argv[1]), sys.argv[2]
    settings = Settings(index_dir=index_dir)
    engines = load_engines(
        settings, lambda _s: [KeywordEncoder()], lambda _s: FakeExtractor([answer])
    )
    services = Services(settings, engines)
    build_server(services).run("stdio")


if __name__ == "__main__":
    main()
