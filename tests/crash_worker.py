"""Run one ingest of a folder into an index with the fake encoder (for crash tests).

    python -m tests.crash_worker INDEX_DIR FOLDER [DELAY_PER_TEXT_S]

Prints ``ready`` once imports are done, so the parent can time a ``kill -9`` into the
ingest itself. The small per-text delay spreads the ingest over time so kills land in
every phase: staging, embedding, writing files, fsync, rename, CURRENT switch.
"""

from __future__ import annotations

import sys
from pathlib import Path

from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter
from tests.fakes import SlowEncoder


def main() -> None:
    index_dir, folder = Path(sys.argv[1]), Path(sys.argv[2])
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    print("ready", flush=True)
    with IndexWriter(index_dir, SlowEncoder(delay), batch_size=8) as writer:
        stage_paths(writer, discover([folder]))
        report = writer.commit()
    print(f"committed {report.generation}", flush=True)


if __name__ == "__main__":
    main()
