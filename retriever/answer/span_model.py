"""Extractive span model in PyTorch: a shipped encoder with fine-tuned layers and a span head.

The base encoder (MiniLM or e5, see ``bases``) comes from an installed package; the
top layers are that model plus int8 deltas stored in a weights directory whose manifest
names the base (see ``weights_io``). The product reads with the ONNX graph exported
from this model (``reader_graph``, ``onnx_reader``); this module builds that graph and
serves training and checks. Both runtimes share the span choice of ``spans``.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn

from retriever.answer.bases import (
    BaseText,
    WindowMaker,
    encoder_layers,
    hidden_size,
    load_base,
    reader_base,
)
from retriever.answer.spans import Floats, Ints, LogitsFn, WindowReader
from retriever.answer.types import (
    E5_WEIGHTS_DIR,
    WEIGHTS_DIR,
    SpanPrediction,
)
from retriever.answer.weights_io import (
    HEAD_FILE,
    apply_layer_delta,
    layer_file,
    load_head,
    read_manifest,
)

# Defined in ``types`` (importable without torch); re-exported for their old callers.
__all__ = ["E5_WEIGHTS_DIR", "WEIGHTS_DIR", "SpanModel", "SpanPrediction"]


class SpanModel(WindowReader):
    """Predicts the most likely answer span of a question in a passage (PyTorch)."""

    def __init__(
        self, windows: WindowMaker, pad_id: int, encoder: nn.Module, head: nn.Linear
    ) -> None:
        self._windows = windows
        self._pad_id = pad_id
        self._encoder = encoder.eval()
        self._head = head.eval()

    @property
    def encoder(self) -> nn.Module:
        """The fine-tuned ``BertModel``."""
        return self._encoder

    @property
    def head(self) -> nn.Linear:
        """The span head: hidden state -> (start, end) logit."""
        return self._head

    @classmethod
    def load(cls, weights_dir: Path = WEIGHTS_DIR, text: BaseText | None = None) -> SpanModel:
        """Load the base the manifest names and apply the fine-tuned layers and head.

        Args:
            weights_dir: The reader's weights.
            text: Its base's :func:`~retriever.answer.bases.reader_base`, when loaded.

        Raises:
            WeightsMismatchError: The weights are missing or were trained on another base.
        """
        text = text or reader_base(weights_dir)
        base = load_base(text.name, text)
        layers = encoder_layers(base.encoder)
        for index in read_manifest(weights_dir)["trained_layers"]:
            apply_layer_delta(layers[index], weights_dir / layer_file(index))
        head = load_head(weights_dir / HEAD_FILE, hidden_size(base.encoder))
        return cls(base.windows, base.pad_id, base.encoder, head)

    def logits(self, ids: torch.Tensor, types: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        """``(batch, tokens, 2)`` start/end logits."""
        out = self._encoder(input_ids=ids, token_type_ids=types, attention_mask=attn)
        return cast(torch.Tensor, self._head(out.last_hidden_state))

    @torch.inference_mode()
    def window_logits(self, ids: Ints, types: Ints, attn: Ints) -> Floats:
        """:meth:`logits` of padded NumPy windows, as NumPy (``spans.LogitsFn``)."""
        found = self.logits(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(attn))
        return np.ascontiguousarray(found.float().numpy())

    def reading(self) -> tuple[WindowMaker, int, LogitsFn]:
        return self._windows, self._pad_id, self.window_logits
