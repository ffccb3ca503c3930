"""kill -9 an upload at random moments, after the CURRENT switch too; files and index agree.

After every kill the next server start (an :class:`UploadInbox`) settles what the dead
upload left: every indexed uploaded document has its file, holding the indexed text,
no file is left that the index does not hold, and no ``.incoming-*`` folder remains.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.upload_journal import STAGING_PREFIX
from api.uploads import UploadInbox
from index.encoders.specs import specs_of
from index.lifecycle.snapshot import IndexSnapshot
from tests.fakes import KeywordEncoder
from tests.upload_crash_worker import upload_files

ROOT = Path(__file__).resolve().parents[1]
KILLS = 26
DELAY = 0.01  # seconds per embedded text
PAUSE = 0.3  # seconds the worker waits right after CURRENT switches


class Zygote:
    """The worker process that forks one upload per round (see tests/upload_crash_worker.py)."""

    def __init__(self, index_dir: Path, data_dir: Path) -> None:
        args = [str(index_dir), str(data_dir), str(DELAY), str(PAUSE)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.upload_crash_worker", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the upload worker died"
        return line.strip()

    def upload(
        self, round_number: int, kill_after: float | None, after_switch: bool = False
    ) -> tuple[list[str], float]:
        """One upload, killed ``kill_after`` s after it starts (or after CURRENT switches,
        with ``after_switch``); its lines and the time until CURRENT switched."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{round_number}\n")
        self.proc.stdin.flush()
        start = self._line()
        started = time.perf_counter()
        pid = int(start.split()[1])
        lines: list[str] = []
        switched = 0.0
        if after_switch:
            while (line := self._line()) not in {"published", f"exit {pid}"}:
                lines.append(line)
            lines.append(line)
            switched = time.perf_counter() - started
        if kill_after is not None and lines[-1:] != [f"exit {pid}"]:
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(pid, signal.SIGKILL)
        if lines[-1:] != [f"exit {pid}"]:
            while (line := self._line()) != f"exit {pid}":
                lines.append(line)
                if line == "published":
                    switched = time.perf_counter() - started
        else:
            lines.pop()
        return lines, switched

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def check_consistent(index_dir: Path, data_dir: Path) -> dict[str, str]:
    """Settle as a server start would, then check files against the index; name -> text."""
    UploadInbox(data_dir, index_dir, [KeywordEncoder()], max_file_bytes=1 << 20)
    assert not [p for p in data_dir.iterdir() if p.name.startswith(STAGING_PREFIX)]
    snapshot = IndexSnapshot.open(index_dir, specs_of([KeywordEncoder()]))  # counts agree
    indexed = {
        Path(d.source).name: snapshot.store.document_text(d.document_id)
        for d in snapshot.store.documents()
    }
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in data_dir.iterdir()}
    assert on_disk == indexed  # every indexed file present with its text, no stray file
    rounds = {t.split("Round r", 1)[1].split("x")[0] for n, t in indexed.items() if n[0] == "f"}
    assert len(rounds) == 1, rounds  # one upload is all in or all out
    return indexed


@pytest.mark.slow
def test_kill_minus_nine_during_uploads(tmp_path: Path) -> None:
    index_dir, data_dir = tmp_path / "idx", tmp_path / "uploads"
    zygote = Zygote(index_dir, data_dir)
    try:
        lines, until_switch = zygote.upload(0, None)
        assert lines[-1] == "done"
        assert check_consistent(index_dir, data_dir) == upload_files(0)
        rng = random.Random(20261202)
        phases = {"before_switch": 0, "after_switch": 0, "finished": 0}
        # A third of the kills at a random moment of the pause right after CURRENT
        # switches; the rest stratified (one random moment in each of equal slices) over
        # the time until the switch, so every phase is hit whatever the machine's load.
        post = KILLS // 3
        moments = [(PAUSE * rng.random(), True) for _ in range(post)]
        moments += [
            (until_switch * (i + rng.random()) / (KILLS - post), False) for i in range(KILLS - post)
        ]
        rng.shuffle(moments)
        for round_number, (kill_at, after_switch) in enumerate(moments, start=1):
            lines, _ = zygote.upload(round_number, kill_at, after_switch)
            phase = "finished" if "done" in lines else "before_switch"
            if phase == "before_switch" and "published" in lines:
                phase = "after_switch"
            phases[phase] += 1
            indexed = check_consistent(index_dir, data_dir)
            if phase != "before_switch":  # committed: this round's files are the indexed ones
                expected = upload_files(round_number)
                assert {n: indexed[n] for n in expected} == expected
    finally:
        zygote.close()
    print(f"upload kill -9 outcomes over {KILLS} kills: {phases}")
    assert phases["before_switch"] >= 3 and phases["after_switch"] >= 3, phases
