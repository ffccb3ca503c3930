"""Uploads through the upload store with a slow fake encoder (for the kill -9 test).

    python -m tests.upload_crash_worker INDEX_DIR DATA_DIR DELAY_PER_TEXT_S PAUSE_S

A zygote: it imports everything and warms the extraction worker once, prints ``ready``,
then for every ROUND read from stdin forks a child that uploads ``f00.txt``..``f05.txt``
(text marked with ROUND) and ``nROUND.txt``, so each upload starts in milliseconds and
a kill can be timed into the upload itself. The child prints ``start PID``,
``published`` right after ``CURRENT`` switches (then pauses PAUSE_S, so kills land
after the switch too) and ``done``; the zygote prints ``exit PID`` once it is gone.
"""

from __future__ import annotations

import io
import os
import sys
import time
from multiprocessing import forkserver
from pathlib import Path

from api.uploads import IncomingFile, UploadInbox
from index.formats.sandbox import ExtractLimits, extract_bounded
from index.lifecycle import generation as gen
from tests.fakes import SlowEncoder


def upload_files(round_number: int) -> dict[str, str]:
    """File name -> text of one round's upload."""
    files = {
        f"f{i:02d}.txt": f"File {i}\n\nShared paragraph {i}.\n\nRound r{round_number}x{i} text.\n"
        for i in range(6)
    }
    files[f"n{round_number:02d}.txt"] = f"New file of round r{round_number}.\n"
    return files


def upload(index_dir: Path, data_dir: Path, round_number: int, delay: float) -> None:
    # A new UploadInbox, as at a server start: it settles what an earlier kill left.
    store = UploadInbox(data_dir, index_dir, [SlowEncoder(delay)], max_file_bytes=1 << 20)
    files = [
        IncomingFile(name, io.BytesIO(text.encode()), {})
        for name, text in upload_files(round_number).items()
    ]
    store.add(files)
    print("done", flush=True)


def main() -> None:
    index_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    delay, pause = float(sys.argv[3]), float(sys.argv[4])
    publish = gen.publish

    def announced(index_dir: Path, staging: Path, generation: int) -> Path:
        final = publish(index_dir, staging, generation)
        print("published", flush=True)
        time.sleep(pause)
        return final

    gen.publish = announced  # type: ignore[assignment]
    data_dir.mkdir(parents=True, exist_ok=True)
    warm = data_dir.parent / "warm.txt"
    warm.write_text("warm", encoding="utf-8")
    extract_bounded(warm, ExtractLimits())  # starts the extraction worker once, here
    print("ready", flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            # The forked child reuses the zygote's warm forkserver; only its parent may
            # waitpid() it, so the child skips that liveness check (it is alive: we are).
            forkserver._forkserver.ensure_running = lambda: None  # type: ignore[attr-defined,method-assign]
            print(f"start {os.getpid()}", flush=True)
            upload(index_dir, data_dir, int(line), delay)
            os._exit(0)
        os.waitpid(pid, 0)
        # A child killed while handing its request to the forkserver can take it down;
        # only this process (its parent) can see that and start a new one.
        forkserver._forkserver.ensure_running()  # type: ignore[attr-defined]
        print(f"exit {pid}", flush=True)


if __name__ == "__main__":
    main()
