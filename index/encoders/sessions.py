"""ONNX Runtime CPU sessions: a wide one for indexing batches, a narrow one for questions."""

from __future__ import annotations

import threading
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
    what the server does. The question sessions open on first use: indexing never asks a
    question, and each session holds its own copy of the weights (e5's 250k-token
    embedding table alone is hundreds of MB), so ``docqa index`` stays within its memory
    bound; a server opens them by warming up at startup.
    """

    def __init__(self, passages_file: Path, questions_file: Path, threads: int) -> None:
        self.passages = cpu_session(passages_file, threads)
        self.question_graph = Path(questions_file).name  # keys cached question vectors
        self._questions_file = Path(questions_file)
        self._same = self._questions_file == Path(passages_file)
        self._threads = threads
        self._lock = threading.Lock()
        self._question: ort.InferenceSession | None = None
        self._question_batches: ort.InferenceSession | None = None

    @classmethod
    def open(cls, passages_file: Path, questions_file: Path, threads: int) -> EncoderSessions:
        return cls(passages_file, questions_file, threads)

    @property
    def question(self) -> ort.InferenceSession:
        with self._lock:
            if self._question is None:
                self._question = question_session(self._questions_file)
            return self._question

    @property
    def question_batches(self) -> ort.InferenceSession:
        if self._same:
            return self.passages
        with self._lock:
            if self._question_batches is None:
                self._question_batches = cpu_session(self._questions_file, self._threads)
            return self._question_batches
