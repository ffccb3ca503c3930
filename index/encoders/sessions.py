"""ONNX Runtime CPU sessions: a wide one for indexing batches, a narrow one for questions."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class EncoderSessions:
    """An encoder's sessions: passages, one question (narrow), a batch of questions (wide).

    ``questions_file`` may be another graph than ``passages_file`` (an all-int8 question
    graph); alone or batched, every question goes through it, so an evaluation measures
    what the server does.
    """

    passages: ort.InferenceSession
    question: ort.InferenceSession
    question_batches: ort.InferenceSession
    question_graph: str  # file name of the question graph (keys cached question vectors)

    @classmethod
    def open(cls, passages_file: Path, questions_file: Path, threads: int) -> EncoderSessions:
        passages = cpu_session(passages_file, threads)
        same = Path(questions_file) == Path(passages_file)
        return cls(
            passages=passages,
            question=question_session(questions_file),
            question_batches=passages if same else cpu_session(questions_file, threads),
            question_graph=Path(questions_file).name,
        )
