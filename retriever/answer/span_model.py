"""Extractive span model: a shipped encoder with fine-tuned top layers and a span head.

The base encoder (MiniLM or e5, see ``bases``) comes from an installed package; the
top layers are that model plus int8 deltas stored in a weights directory whose manifest
names the base (see ``weights_io``).
"""

from __future__ import annotations

import math
from dataclasses import replace
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
from retriever.answer.types import (
    E5_WEIGHTS_DIR,
    ONE_SPAN,
    WEIGHTS_DIR,
    MultiSpanRule,
    SpanPrediction,
)
from retriever.answer.weights_io import (
    HEAD_FILE,
    apply_layer_delta,
    layer_file,
    load_head,
    read_manifest,
)
from retriever.errors import WeightsMismatchError

# Defined in ``types`` (importable without torch); re-exported for their old callers.
__all__ = ["E5_WEIGHTS_DIR", "WEIGHTS_DIR", "SpanModel", "SpanPrediction"]

#: Longest answer considered, in tokens.
MAX_ANSWER_TOKENS = 30


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


def _span_scores(start_lp: torch.Tensor, end_lp: torch.Tensor) -> torch.Tensor:
    """``(batch, tokens, tokens)`` log-probs of every span; -inf where not allowed."""
    width = start_lp.shape[1]
    idx = torch.arange(width)
    allowed = (idx[None, :] >= idx[:, None]) & (idx[None, :] < idx[:, None] + MAX_ANSWER_TOKENS)
    scores = start_lp[:, :, None] + end_lp[:, None, :]
    return scores.masked_fill(~allowed[None], float("-inf"))


def best_spans(start_lp: torch.Tensor, end_lp: torch.Tensor) -> list[tuple[int, int, float]]:
    """Highest-scoring (start, end, log-prob) with ``start <= end < start + MAX_ANSWER_TOKENS``."""
    scores = _span_scores(start_lp, end_lp)
    width = scores.shape[1]
    best, arg = scores.reshape(scores.shape[0], -1).max(dim=1)
    return [
        (int(a) // width, int(a) % width, float(b))
        for a, b in zip(arg.tolist(), best.tolist(), strict=True)
    ]


#: Most candidate spans :func:`top_spans` looks through per row: overlapping variants of
#: the best span come first, so this bounds the work when ``min_ratio`` is very small.
MAX_CANDIDATES = 256


def top_spans(
    start_lp: torch.Tensor, end_lp: torch.Tensor, max_spans: int, min_ratio: float
) -> list[list[tuple[int, int, float]]]:
    """Per row, the best span, then further spans overlapping none chosen before them.

    A further span is kept when its probability is at least ``min_ratio`` times the best
    span's: a passage that names two answers (two signers) splits the start and end
    probabilities between them, so the second scores a fraction of the first, not zero.

    Args:
        start_lp: ``(batch, tokens)`` start log-probabilities.
        end_lp: ``(batch, tokens)`` end log-probabilities.
        max_spans: Most spans per row, the best one included (at least 1).
        min_ratio: Lowest probability of a further span, as a share of the best's, in (0, 1].

    Returns:
        Per row, ``(start, end, log_prob)`` tuples, best first, then by falling log-prob.
    """
    if max_spans < 1:
        raise ValueError(f"max_spans must be at least 1; got {max_spans}")
    if not 0.0 < min_ratio <= 1.0:
        raise ValueError(f"min_ratio must be in (0, 1]; got {min_ratio}")
    scores = _span_scores(start_lp, end_lp)
    width = scores.shape[1]
    flat = scores.reshape(scores.shape[0], -1)
    floor = math.log(min_ratio)
    k = min(MAX_CANDIDATES, flat.shape[1])
    values, args = flat.topk(k, dim=1)
    rows: list[list[tuple[int, int, float]]] = []
    for row_values, row_args in zip(values.tolist(), args.tolist(), strict=True):
        chosen: list[tuple[int, int, float]] = []
        for value, arg in zip(row_values, row_args, strict=True):
            if len(chosen) == max_spans or (chosen and value < chosen[0][2] + floor):
                break
            start, end = arg // width, arg % width
            if all(end < s or start > e for s, e, _ in chosen):
                chosen.append((start, end, value))
        rows.append(chosen)
    return rows


def _located(
    window: Window, raw: torch.Tensor, spans: list[tuple[int, int, float]]
) -> SpanPrediction | None:
    """The window's best span in passage offsets with its further spans as ``extra``;
    None when the best span is not passage text (only passage tokens score, so unseen)."""
    found = [
        SpanPrediction(first[0], last[1], math.exp(lp), float(raw[s, 0] + raw[e, 1]))
        for s, e, lp in spans
        if (first := window.char_spans[s]) is not None
        and (last := window.char_spans[e]) is not None
    ]
    best_start, best_end, _ = spans[0]
    if window.char_spans[best_start] is None or window.char_spans[best_end] is None:
        return None
    return replace(found[0], extra=tuple(found[1:]))


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
        self,
        questions: list[str],
        passages: list[str],
        batch_size: int = 16,
        rule: MultiSpanRule = ONE_SPAN,
    ) -> list[SpanPrediction | None]:
        """Best span per (question, passage) pair; ``None`` for an empty passage.

        Each best span carries, as ``extra``, the further spans of its window that
        ``rule`` lets through (:func:`top_spans`).
        """
        keep = [i for i, p in enumerate(passages) if p.strip()]
        results: list[SpanPrediction | None] = [None] * len(passages)
        if not keep:
            return results
        windows = self._windows([questions[i] for i in keep], [passages[i] for i in keep])
        lengths = [len(w.input_ids) for w in windows]
        for batch in length_sorted_batches(lengths, batch_size):
            chunk = [windows[k] for k in batch]
            ids, types, attn, ctx = pad_windows(chunk, self._pad_id)
            raw = self.logits(ids, types, attn)
            start_lp, end_lp = span_log_probs(raw, ctx)
            found = top_spans(start_lp, end_lp, rule.max_spans, rule.min_ratio)
            for row, (w, spans) in enumerate(zip(chunk, found, strict=True)):
                located = _located(w, raw[row], spans)
                if located is None:
                    continue
                pair = keep[w.pair_index]
                current = results[pair]
                if current is None or located.prob > current.prob:
                    results[pair] = located
        return results
