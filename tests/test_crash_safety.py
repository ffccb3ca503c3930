"""kill -9 a real ingest at random moments; every reopen must be one whole generation."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.encoders.specs import specs_of
from index.lifecycle.snapshot import IndexSnapshot
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import open_retriever

ROOT = Path(__file__).resolve().parents[1]
KILLS = 24
DELAY = 0.004  # seconds per embedded text in the worker


def write_version(folder: Path, version: str) -> dict[str, str]:
    """Lay out version ``a`` or ``b`` of a 40-file folder; returns file name -> marker."""
    for old in folder.glob("*.txt"):
        old.unlink()
    expected: dict[str, str] = {}
    names = range(0, 40) if version == "a" else range(5, 45)  # b drops 5 files, adds 5
    for i in names:
        marker = f"{version}marker{i}"
        expected[f"f{i:02d}.txt"] = marker
        (folder / f"f{i:02d}.txt").write_text(
            f"File {i}\n\nShared paragraph {i} that never changes.\n\n"
            f"Version paragraph with {marker} and words {version}{i}x.\n",
            encoding="utf-8",
        )
    return expected


def run_worker(index_dir: Path, folder: Path, kill_after: float | None) -> bool:
    """Run an ingest; kill -9 it ``kill_after`` seconds after it is ready. True if it finished."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_worker", str(index_dir), str(folder), str(DELAY)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    if kill_after is None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return True
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return proc.returncode == 0


def check_whole(index_dir: Path, versions: dict[str, dict[str, str]]) -> str:
    """Open the index; it must hold exactly version a or b. Returns which."""
    encoder = KeywordEncoder()
    snapshot = IndexSnapshot.open(index_dir, specs_of([encoder]))  # checks counts agree
    docs = {Path(d.source).name: d for d in snapshot.store.documents()}
    texts = {name: snapshot.store.document_text(doc.document_id) for name, doc in docs.items()}
    matches = [
        v
        for v, files in versions.items()
        if set(docs) == set(files) and all(files[n] in texts[n] for n in files)
    ]
    assert len(matches) == 1, f"index holds a mix: {sorted(docs)[:5]}..."
    version = matches[0]
    assert snapshot.store.count_passages() == 3 * len(versions[version])
    retriever = open_retriever(index_dir, encoder)
    name, marker = sorted(versions[version].items())[7]
    for mode in (Mode.DENSE, Mode.LEXICAL):
        top = retriever.search(marker, 1, mode).hits[0]
        assert marker in top.text and Path(top.citation.source).name == name
    return version


@pytest.mark.slow
def test_kill_minus_nine_at_random_moments(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "docs", tmp_path / "idx"
    folder.mkdir()
    versions = {"a": write_version(folder, "a")}
    started = time.perf_counter()
    run_worker(index_dir, folder, None)
    duration = time.perf_counter() - started
    versions["b"] = write_version(folder, "b")
    state = check_whole(index_dir, versions)
    assert state == "a"
    rng = random.Random(20261127)
    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        target = "b" if state == "a" else "a"
        write_version(folder, target)
        finished = run_worker(index_dir, folder, rng.uniform(0.0, duration * 1.1))
        after = check_whole(index_dir, versions)
        if finished:
            assert after == target
        outcomes["new" if after == target else "old"] += 1
        state = after
    leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith(".staging")]
    assert len(leftovers) <= 1  # at most the last killed writer's; the next writer removes it
    print(f"kill -9 outcomes over {KILLS} kills: {outcomes}")
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes  # kills hit both sides
    run_worker(index_dir, folder, None)
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".staging")]
