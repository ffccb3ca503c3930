"""ONNX Runtime CPU sessions: a wide one for indexing batches, a narrow one for questions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime as ort


def cpu_session(path: Path, threads: int, *, spin: bool = True) -> ort.InferenceSession:
    """A CPU session of ``path`` with ``threads`` intra-op threads.

    ``spin=False`` makes idle worker threads sleep instead of busy-waiting for the next
    operator: a small single-question graph gains nothing from spinning, and the spin
    takes the cores that concurrent requests (and other jobs on the machine) need.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def question_session(path: Path) -> ort.InferenceSession:
    """One thread, no spinning: a question is a few dozen tokens, and under concurrent
    requests each one running on its own core beats all of them queueing for every
    core (``Session.run`` is thread-safe, so no lock is needed around it)."""
    return cpu_session(path, 1, spin=False)


class EncoderSessions:
    """An encoder's sessions: passages, one question (narrow), a batch of questions (wide).

    ``questions_file`` may be another graph than ``passages_file`` (an all-int8 question
    graph); alone or batched, every question goes through it, so an evaluation measures
    what the server does.

    Each session is opened on first use: a server that only answers questions never
    opens the passage or batch sessions (their weights, their start-up time), an ingest
    never opens the one-thread question session.
    """

    def __init__(self, passages_file: Path, questions_file: Path, threads: int) -> None:
        self._passages_file = Path(passages_file)
        self._questions_file = Path(questions_file)
        self._threads = threads
        self._opened: dict[str, ort.InferenceSession] = {}
        self._lock = threading.Lock()
        #: File name of the question graph (keys cached question vectors).
        self.question_graph = self._questions_file.name

    @classmethod
    def open(cls, passages_file: Path, questions_file: Path, threads: int) -> EncoderSessions:
        """The sessions of these graphs (each opened when first used)."""
        return cls(passages_file, questions_file, threads)

    def _session(self, kind: str, make: Callable[[], ort.InferenceSession]) -> ort.InferenceSession:
        found = self._opened.get(kind)
        if found is None:
            with self._lock:
                found = self._opened.get(kind)
                if found is None:
                    found = self._opened[kind] = make()
        return found

    @property
    def opened(self) -> tuple[str, ...]:
        """Which sessions are open (``passages``, ``question``, ``question_batches``)."""
        return tuple(self._opened)

    @property
    def passages(self) -> ort.InferenceSession:
        return self._session("passages", lambda: cpu_session(self._passages_file, self._threads))

    @property
    def question(self) -> ort.InferenceSession:
        return self._session("question", lambda: question_session(self._questions_file))

    @property
    def question_batches(self) -> ort.InferenceSession:
        if self._questions_file == self._passages_file:
            return self.passages
        return self._session(
            "question_batches", lambda: cpu_session(self._questions_file, self._threads)
        )
