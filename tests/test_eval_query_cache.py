"""scripts/evaluate.py caches question vectors per encoder *and* question graph."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


class CountingEncoder:
    name = "model"

    def __init__(self, graph: str) -> None:
        self.question_graph = graph
        self.encoded: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return np.full((len(texts), 2), float(len(self.question_graph)), dtype=np.float32)


def test_question_vectors_are_keyed_by_the_question_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import evaluate

    encoder = CountingEncoder("a.onnx")
    retriever = SimpleNamespace(encoders=[encoder])
    first = evaluate.query_vectors(retriever, ["q1", "q2"], tmp_path)["model"]
    assert encoder.encoded == ["q1", "q2"]
    evaluate.query_vectors(retriever, ["q1", "q2"], tmp_path)
    assert encoder.encoded == ["q1", "q2"]  # cached
    encoder.question_graph = "other.onnx"  # another graph: encoded again, not reused
    second = evaluate.query_vectors(retriever, ["q1", "q2"], tmp_path)["model"]
    assert encoder.encoded == ["q1", "q2", "q1", "q2"]
    assert not np.array_equal(first, second)
