"""Extractive span model: a shipped encoder with fine-tuned top layers and a span head.

The base encoder (MiniLM or e5, see ``bases``) comes from an installed package; the
top layers are that model plus int8 deltas stored in a weights directory whose manifest
names the base (see ``weights_io``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from torch import nn

from index.encoders.batching import length_sorted_batches
from retriever.answer.bases import (
    BASES,
    LEGACY_BASE,
    WindowMaker,
    encoder_layers,
    hidden_size,
    load_base,
)
from retriever.answer.features import Window
from retriever.answer.weights_io import (
    HEAD_FILE,
    WeightsMismatchError,
    apply_layer_delta,
    layer_file,
    load_head,
    read_manifest,
)

#: Longest answer considered, in tokens.
MAX_ANSWER_TOKENS = 30
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: The multilingual reader (e5 base), for questions and passages in non-Latin scripts.
E5_WEIGHTS_DIR = WEIGHTS_DIR.with_name("weights_e5")


@dataclass(frozen=True)
class SpanPrediction:
    """Best answer span of one (question, passage) pair.

    Attributes:
        char_start: Start offset in the passage.
        char_end: End offset (exclusive) in the passage.
        prob: P(start) * P(end) under the model, in [0, 1].
    """

    char_start: int
    char_end: int
    prob: float


def pad_windows(windows: list[Window], pad_id: int) -> tuple[torch.Tensor, ...]:
    """Right-pad windows into ``(input_ids, token_type_ids, attention_mask, context_mask)``."""
    width = max(len(w.input_ids) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(windows), width), dtype=torch.long)
    attn = torch.zeros((len(windows), width), dtype=torch.long)
    ctx = torch.zeros((len(windows), width), dtype=torch.bool)
    for row, w in enumerate(windows):
        n = len(w.input_ids)
        ids[row, :n] = torch.tensor(w.input_ids)
        types[row, :n] = torch.tensor(w.token_type_ids)
        attn[row, :n] = 1
        ctx[row, :n] = torch.tensor([s is not None for s in w.char_spans])
    return ids, types, attn, ctx


def span_log_probs(logits: torch.Tensor, ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end log-probabilities over passage tokens only.

    Args:
        logits: ``(batch, tokens, 2)`` head output.
        ctx: ``(batch, tokens)`` True on passage tokens.
    """
    masked = logits.masked_fill(~ctx[:, :, None], -1e4)
    lp = torch.log_softmax(masked.float(), dim=1)
    return lp[:, :, 0], lp[:, :, 1]


def best_spans(start_lp: torch.Tensor, end_lp: torch.Tensor) -> list[tuple[int, int, float]]:
    """Highest-scoring (start, end, log-prob) with ``start <= end < start + MAX_ANSWER_TOKENS``."""
    width = start_lp.shape[1]
    idx = torch.arange(width)
    allowed = (idx[None, :] >= idx[:, None]) & (idx[None, :] < idx[:, None] + MAX_ANSWER_TOKENS)
    scores = start_lp[:, :, None] + end_lp[:, None, :]
    scores = scores.masked_fill(~allowed[None], float("-inf"))
    flat = scores.reshape(scores.shape[0], -1)
    best, arg = flat.max(dim=1)
    return [
        (int(a) // width, int(a) % width, float(b))
        for a, b in zip(arg.tolist(), best.tolist(), strict=True)
    ]


class SpanModel:
    """Predicts the most likely answer span of a question in a passage."""

    def __init__(
        self, windows: WindowMaker, pad_id: int, encoder: nn.Module, head: nn.Linear
    ) -> None:
        self._windows = windows
        self._pad_id = pad_id
        self._encoder = encoder.eval()
        self._head = head.eval()

    @classmethod
    def load(cls, weights_dir: Path = WEIGHTS_DIR) -> SpanModel:
        """Load the base the manifest names and apply the fine-tuned layers and head.

        Raises:
            WeightsMismatchError: The weights are missing or were trained on another base.
        """
        manifest = read_manifest(weights_dir)
        name = str(manifest.get("base", LEGACY_BASE))
        if name not in BASES:
            raise WeightsMismatchError(
                f"{weights_dir} names base {name!r}; this version knows {BASES}: upgrade docqa"
            )
        base = load_base(name)
        if manifest["base_sha256"] != base.sha256:
            raise WeightsMismatchError(
                f"{weights_dir} was trained on another {base.name} than the installed one "
                f"({base.description}); retrain with `python -m scripts.lab.train_span "
                f"--base {base.name}`"
            )
        layers = encoder_layers(base.encoder)
        for index in manifest["trained_layers"]:
            apply_layer_delta(layers[index], weights_dir / layer_file(index))
        head = load_head(weights_dir / HEAD_FILE, hidden_size(base.encoder))
        return cls(base.windows, base.pad_id, base.encoder, head)

    def logits(self, ids: torch.Tensor, types: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        """``(batch, tokens, 2)`` start/end logits."""
        out = self._encoder(input_ids=ids, token_type_ids=types, attention_mask=attn)
        return cast(torch.Tensor, self._head(out.last_hidden_state))

    @torch.inference_mode()
    def predict(
        self, questions: list[str], passages: list[str], batch_size: int = 16
    ) -> list[SpanPrediction | None]:
        """Best span per (question, passage) pair; ``None`` for an empty passage."""
        keep = [i for i, p in enumerate(passages) if p.strip()]
        results: list[SpanPrediction | None] = [None] * len(passages)
        if not keep:
            return results
        windows = self._windows([questions[i] for i in keep], [passages[i] for i in keep])
        lengths = [len(w.input_ids) for w in windows]
        for batch in length_sorted_batches(lengths, batch_size):
            chunk = [windows[k] for k in batch]
            ids, types, attn, ctx = pad_windows(chunk, self._pad_id)
            start_lp, end_lp = span_log_probs(self.logits(ids, types, attn), ctx)
            for w, (s, e, lp) in zip(chunk, best_spans(start_lp, end_lp), strict=True):
                first, last = w.char_spans[s], w.char_spans[e]
                if first is None or last is None:
                    continue
                pair = keep[w.pair_index]
                prob = math.exp(lp)
                current = results[pair]
                if current is None or prob > current.prob:
                    results[pair] = SpanPrediction(first[0], last[1], prob)
        return results
