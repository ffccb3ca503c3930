"""The MCP server over stdio with the keyword encoder and a fake span reader.

    python -m tests.mcp_worker INDEX_DIR ANSWER

The stdio transport starts the server as a subprocess; this is that subprocess in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from api.deps import Services
from docqa.mcp_server import build_server
from docqa.settings import Settings
from tests.api_support import FakeExtractor
from tests.fakes import KeywordEmbedder


def main() -> None:
    index_dir, answer = Path(sys.argv[1]), sys.argv[2]
    services = Services(Settings(index_dir=index_dir), [KeywordEmbedder()], FakeExtractor([answer]))
    build_server(services).run("stdio")


if __name__ == "__main__":
    main()
