"""Run FAISS single-threaded for the duration of one question's search."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_faiss_thread() -> Iterator[None]:
    """FAISS parallelises over the queries of a batch, so for one question its OpenMP
    team only adds start-up and spin-waiting: on a busy two-core machine a flat search
    of 2,000 vectors took 6 ms with the default team and 0.1 ms with one thread.

    OpenMP keeps the thread count per calling thread, so this changes nothing for other
    threads (an indexing job, another request), and the previous count is restored.
    """
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
