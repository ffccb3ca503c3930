"""Parallel batch embedding: same index as serial, resumable after an interruption."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from index.encoders.parallel import (
    CACHE_DIR,
    BatchCache,
    BatchRunner,
    ParallelEncoder,
    ProcessRunner,
    parallel_encoders,
)
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter, IngestReport
from retriever.types import Mode
from tests.fakes import KeywordEncoder, counting_embedders, logged_batches
from tests.helpers import index_paths, open_retriever

BATCH = 4  # texts per task: small, so a tiny corpus makes many batches


def _folder(path: Path, n: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (path / f"doc{i:02d}.txt").write_text(
            f"Report {i}\n\nThe harbour ledger {i} lists cargo{i}. It was audited twice.\n\n"
            f"Crew{i} sailed at dawn. Weather{i} was calm.\n",
            encoding="utf-8",
        )
    return path


def _ingest(index_dir: Path, folder: Path, runner: BatchRunner) -> tuple[IngestReport, int, int]:
    cache = BatchCache(index_dir / CACHE_DIR)
    encoders = parallel_encoders([KeywordEncoder()], runner, cache, BATCH)
    with IndexWriter(index_dir, encoders, batch_size=BATCH, embed_chunk=BATCH * 8) as writer:
        stage_paths(writer, discover([folder]))
        report = writer.commit()
    wrapped = encoders[0]
    assert isinstance(wrapped, ParallelEncoder)
    cache.clear()
    return report, wrapped.reused, wrapped.embedded


def _top(index_dir: Path, question: str) -> list[tuple[str, float]]:
    hits = open_retriever(index_dir, KeywordEncoder()).search(question, 5, Mode.DENSE).hits
    return [(h.passage_id, round(h.score, 5)) for h in hits]


@pytest.mark.slow
def test_workers_build_the_same_index_as_one_process(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "docs", 12)
    index_paths(tmp_path / "serial", KeywordEncoder(), folder)
    runner = ProcessRunner(partial(counting_embedders, str(tmp_path / "log")), workers=2)
    try:
        report, reused, embedded = _ingest(tmp_path / "parallel", folder, runner)
    finally:
        runner.close()
    assert report.passages_total == 36 and reused == 0
    assert embedded == sum(len(b) for b in logged_batches(tmp_path / "log"))
    for question in ("harbour ledger 3 cargo3", "crew7 weather7"):
        assert _top(tmp_path / "parallel", question) == _top(tmp_path / "serial", question)


@pytest.mark.slow
def test_interrupted_ingest_resumes_without_re_embedding(tmp_path: Path) -> None:
    folder, index_dir, log = _folder(tmp_path / "docs", 12), tmp_path / "idx", tmp_path / "log"
    failing = ProcessRunner(partial(counting_embedders, str(log), 5), workers=2)
    try:
        with pytest.raises(RuntimeError, match="simulated interruption"):
            _ingest(index_dir, folder, failing)
    finally:
        failing.close()
    assert not (index_dir / "CURRENT").exists()  # nothing was committed
    finished = logged_batches(log)
    saved = list((index_dir / CACHE_DIR).glob("*.npy"))
    assert len(finished) >= 5 and len(saved) == len(finished)

    log.unlink()
    runner = ProcessRunner(partial(counting_embedders, str(log)), workers=2)
    try:
        report, reused, embedded = _ingest(index_dir, folder, runner)
    finally:
        runner.close()
    again = logged_batches(log)
    assert reused == sum(len(b) for b in finished)  # every finished batch came from disk
    assert embedded == sum(len(b) for b in again)
    assert not {tuple(b) for b in again} & {tuple(b) for b in finished}
    assert report.passages_total == 36 and not (index_dir / CACHE_DIR).exists()
    index_paths(tmp_path / "serial", KeywordEncoder(), folder)
    assert _top(index_dir, "harbour ledger 3 cargo3") == _top(
        tmp_path / "serial", "harbour ledger 3 cargo3"
    )


@pytest.mark.slow
def test_ray_workers_embed_the_batches(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (docqa[ray])")
    from index.encoders.parallel import RayRunner

    root = str(Path(__file__).resolve().parents[1])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": root}},
    )
    try:
        folder = _folder(tmp_path / "docs", 6)
        runner = RayRunner(partial(counting_embedders, str(tmp_path / "log")), 2, "local")
        report, _, embedded = _ingest(tmp_path / "idx", folder, runner)
    finally:
        ray.shutdown()
    assert report.passages_total == 18
    assert embedded == sum(len(b) for b in logged_batches(tmp_path / "log")) > 0
    index_paths(tmp_path / "serial", KeywordEncoder(), folder)
    assert _top(tmp_path / "idx", "crew2 weather2") == _top(tmp_path / "serial", "crew2 weather2")
