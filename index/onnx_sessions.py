"""ONNX Runtime CPU sessions: a wide one for indexing batches, a narrow one for questions."""

from __future__ import annotations

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
