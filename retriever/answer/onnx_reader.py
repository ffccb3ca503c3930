"""The span reader on ONNX Runtime: no torch or ``transformers`` model at run time.

The graph (``reader_graph``) starts from the word embeddings, which are gathered here
from the base's memory-mapped word table (shared with its encoder graphs), and ends in
the start/end logits; the span choice is ``spans``, as for the PyTorch model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.encoders.sessions import cpu_session
from index.encoders.word_table import open_word_table
from retriever.answer.bases import BaseText, WindowMaker, reader_base
from retriever.answer.reader_graph import INPUTS, OUTPUT, ensure_reader_graph
from retriever.answer.spans import Floats, Ints, LogitsFn, WindowReader

if TYPE_CHECKING:
    import onnxruntime as ort


class OnnxSpanModel(WindowReader):
    """Predicts the most likely answer span of a question in a passage (ONNX Runtime).

    Args:
        text: The reader's base: windows, padding id and word table.
        session: A session of the reader's graph.
    """

    def __init__(self, text: BaseText, session: ort.InferenceSession) -> None:
        self._text = text
        self._table = open_word_table(text.word_table, text.hidden_size)
        self._session = session

    @classmethod
    def load(cls, weights_dir: Path, threads: int | None = None) -> OnnxSpanModel:
        """The reader in ``weights_dir``; its graph is exported (with torch) on first use.

        Args:
            weights_dir: The reader's weights.
            threads: Intra-op threads; every core by default.

        Raises:
            WeightsMismatchError: The weights are missing or were trained on another base.
        """
        text = reader_base(weights_dir)
        graph = ensure_reader_graph(weights_dir, text)
        # No spinning: between a request's few passages the threads sleep rather than
        # take the cores of concurrent requests and of the other workers.
        return cls(text, cpu_session(graph, threads or os.cpu_count() or 1, spin=False))

    def logits(self, ids: Ints, types: Ints, attn: Ints) -> Floats:
        """``(batch, tokens, 2)`` start/end logits of padded windows."""
        embeds = np.take(self._table, ids, axis=0)
        feeds = dict(zip(INPUTS, (embeds, types, attn), strict=True))
        (found,) = self._session.run([OUTPUT], feeds)
        return np.asarray(found, dtype=np.float32)

    def reading(self) -> tuple[WindowMaker, int, LogitsFn]:
        return self._text.windows, self._text.pad_id, self.logits
