"""What the evaluation and benchmark scripts share: paths, a free port, a timed run, JSON reports.

Scripts run as ``python scripts/NAME.py`` have ``scripts/`` on ``sys.path`` already; this
module also puts the repository root there, so they run from a checkout not installed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-v1.1-dev"


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def emit_json(payload: Any, path: Path | None) -> None:
    """Print ``payload`` as indented JSON and, given a ``path``, write it there too."""
    if path is not None:
        write_json(path, payload)
    print(json.dumps(payload, indent=2))


def timed_run(command: list[str], env: dict[str, str]) -> float:
    """Seconds ``command`` takes to run to a zero exit status (its output captured)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server to start on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
