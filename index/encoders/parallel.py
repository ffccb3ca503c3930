"""Batch embedding spread over worker processes (or a Ray cluster), resumable.

:class:`ParallelEncoder` is an :class:`~index.encoders.base.Encoder` for the
:class:`~index.lifecycle.writer.IndexWriter`: each ``encode_passages`` call is cut into batches,
the batches run in parallel, and each finished batch is saved as ``.npy`` under a cache
directory, keyed by a hash of the encoder name and the batch's texts. When an ingest is
interrupted (killed, a worker failed), the rerun finds the finished batches there and
embeds only the rest. The writer sorts texts the same way every time, so an identical
rerun cuts identical batches.

Every worker builds its encoders once, from a picklable zero-argument ``factory``
(e.g. ``functools.partial(docqa.wiring.load_encoders, settings)``).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.encoders.base import Encoder, Vectors
from index.encoders.specs import EncoderSpec
from index.fsutil import atomic_file

EncoderFactory = Callable[[], Sequence[Encoder]]
CACHE_DIR = ".embed-cache"
_worker_encoders: dict[str, Encoder] = {}


def batch_key(encoder: str, texts: Sequence[str]) -> str:
    """A stable name for one batch of one encoder (length-prefixed, so no two collide)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(encoder.encode("utf-8") + b"\0")
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


class BatchCache:
    """Finished batches as ``<dir>/<key>.npy``, written atomically (temp file, rename)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, encoder: str, texts: Sequence[str]) -> Path:
        return self.directory / f"{batch_key(encoder, texts)}.npy"

    def load(self, encoder: str, texts: Sequence[str], dimension: int) -> Vectors | None:
        path = self.path(encoder, texts)
        try:
            vectors = np.load(path)
        except (FileNotFoundError, ValueError, OSError):
            return None  # missing, or torn by a crash before the rename: embed again
        if vectors.shape != (len(texts), dimension) or vectors.dtype != np.float32:
            return None
        return np.ascontiguousarray(vectors)

    def save(self, encoder: str, texts: Sequence[str], vectors: Vectors) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path(encoder, texts)
        with atomic_file(final) as temp, open(temp, "wb") as handle:
            np.save(handle, vectors)

    def clear(self) -> None:
        """Forget every batch (after the generation that used them is committed)."""
        shutil.rmtree(self.directory, ignore_errors=True)


class BatchRunner(Protocol):
    """Runs encoder batches somewhere; yields ``(position, vectors)`` as each finishes."""

    def run(
        self, encoder: str, batches: Sequence[Sequence[str]], batch_size: int
    ) -> Iterator[tuple[int, Vectors]]: ...

    def close(self) -> None: ...


def _init_worker(factory: EncoderFactory) -> None:
    _worker_encoders.clear()
    _worker_encoders.update({e.name: e for e in factory()})


def _encode_batch(encoder: str, texts: list[str], batch_size: int) -> Vectors:
    return _worker_encoders[encoder].encode_passages(texts, batch_size=batch_size)


class ProcessRunner:
    """``workers`` processes on this machine, each loading the encoders once."""

    def __init__(self, factory: EncoderFactory, workers: int) -> None:
        # spawn, not fork: the parent may hold torch/FAISS threads that fork copies broken.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(factory,),
        )

    def run(
        self, encoder: str, batches: Sequence[Sequence[str]], batch_size: int
    ) -> Iterator[tuple[int, Vectors]]:
        futures: dict[Future[Vectors], int] = {
            self._pool.submit(_encode_batch, encoder, list(b), batch_size): i
            for i, b in enumerate(batches)
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is None:
                    yield futures[future], future.result()
            failed = [f for f in done if f.exception() is not None]
            if failed:
                for future in pending:
                    future.cancel()
                # Let running batches finish and hand them over, so they are kept.
                for future in pending:
                    if not future.cancelled() and future.exception() is None:
                        yield futures[future], future.result()
                raise failed[0].exception()  # type: ignore[misc]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayRunner:
    """Ray actors (one per worker) on the cluster at ``address``; ``ray`` is imported lazily."""

    def __init__(self, factory: EncoderFactory, workers: int, address: str) -> None:
        try:
            import ray
            from ray.util import ActorPool
        except ImportError as exc:
            from index.errors import DocqaError

            raise DocqaError("--ray needs Ray: pip install 'docqa[ray]'") from exc
        if not ray.is_initialized():
            ray.init(address=None if address == "local" else address)
        actor = ray.remote(num_cpus=1)(_RayWorker)
        self._pool: Any = ActorPool([actor.remote(factory) for _ in range(workers)])

    def run(
        self, encoder: str, batches: Sequence[Sequence[str]], batch_size: int
    ) -> Iterator[tuple[int, Vectors]]:
        yield from self._pool.map_unordered(
            lambda worker, job: worker.encode.remote(encoder, job[0], job[1], batch_size),
            [(i, list(b)) for i, b in enumerate(batches)],
        )

    def close(self) -> None:
        return None  # the caller owns the Ray session (ray.shutdown)


class _RayWorker:
    def __init__(self, factory: EncoderFactory) -> None:
        self._encoders = {e.name: e for e in factory()}

    def encode(
        self, encoder: str, position: int, texts: list[str], batch_size: int
    ) -> tuple[int, Vectors]:
        return position, self._encoders[encoder].encode_passages(texts, batch_size=batch_size)


class ParallelEncoder:
    """Embeds passages through a :class:`BatchRunner`, reusing checkpointed batches.

    Queries (one at a time, at search time) are not its job: use the plain encoder.
    """

    def __init__(
        self, spec: EncoderSpec, runner: BatchRunner, cache: BatchCache, task_size: int
    ) -> None:
        self._spec = spec
        self._runner = runner
        self._cache = cache
        self._task_size = max(1, task_size)
        self.reused = 0  # texts found in the cache
        self.embedded = 0  # texts embedded by the workers

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def dimension(self) -> int:
        return self._spec.dimension

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        step = self._task_size
        batches = [texts[i : i + step] for i in range(0, len(texts), step)]
        found: list[Vectors | None] = [
            self._cache.load(self.name, b, self.dimension) for b in batches
        ]
        missing = [i for i, v in enumerate(found) if v is None]
        self.reused += sum(len(batches[i]) for i, v in enumerate(found) if v is not None)
        todo = [batches[i] for i in missing]
        for position, vectors in self._runner.run(self.name, todo, batch_size):
            batch = todo[position]
            checked = np.ascontiguousarray(vectors, dtype=np.float32)
            if checked.shape != (len(batch), self.dimension):
                raise ValueError(f"{self.name}: got {checked.shape} for {len(batch)} texts")
            self._cache.save(self.name, batch, checked)
            found[missing[position]] = checked
            self.embedded += len(batch)
        parts = [v for v in found if v is not None]
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> Vectors:
        raise NotImplementedError("ParallelEncoder embeds passages for indexing only")


def open_runner(factory: EncoderFactory, workers: int, ray_address: str | None) -> BatchRunner:
    """Ray actors when ``ray_address`` is given (``local`` starts one here), else processes."""
    if ray_address:
        return RayRunner(factory, workers, ray_address)
    return ProcessRunner(factory, workers)


def parallel_encoders(
    encoders: Sequence[Encoder], runner: BatchRunner, cache: BatchCache, task_size: int
) -> list[Encoder]:
    """Wrap each encoder so that its passages are embedded by ``runner``, checkpointed."""
    return [
        ParallelEncoder(EncoderSpec(e.name, e.dimension), runner, cache, task_size)
        for e in encoders
    ]
