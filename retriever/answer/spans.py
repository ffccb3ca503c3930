"""From span-head logits to answer spans, in NumPy: one implementation for every runtime.

A reader's forward pass (ONNX Runtime in the product, PyTorch when a graph is exported
or a model is checked) gives ``(batch, tokens, 2)`` start/end logits per window; this
module pads the windows, turns logits into span log-probabilities over passage tokens,
chooses the spans (:func:`top_spans`) and maps them back to passage characters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from index.encoders.batching import length_sorted_batches
from retriever.answer.features import Window
from retriever.answer.types import ONE_SPAN, MultiSpanRule, SpanPrediction

#: Longest answer considered, in tokens.
MAX_ANSWER_TOKENS = 30
#: Most candidate spans :func:`top_spans` looks through per row: overlapping variants of
#: the best span come first, so this bounds the work when ``min_ratio`` is very small.
MAX_CANDIDATES = 256
#: The logit given to tokens that cannot be an answer (question, specials, padding).
_MASKED = -1e4

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
Span3 = tuple[int, int, float]
#: ``(input_ids, token_type_ids, attention_mask) -> (batch, tokens, 2)`` float32 logits.
LogitsFn = Callable[[Ints, Ints, Ints], Floats]


@dataclass(frozen=True)
class PaddedWindows:
    """Windows right-padded to one width, as ``(batch, width)`` arrays.

    Attributes:
        input_ids: Token ids (``pad_id`` past each window's end).
        token_type_ids: Segment ids (0 on padding).
        attention_mask: 1 on tokens, 0 on padding.
        context: True on passage tokens (the only ones a span may start or end on).
    """

    input_ids: Ints
    token_type_ids: Ints
    attention_mask: Ints
    context: npt.NDArray[np.bool_]


def pad_windows(windows: list[Window], pad_id: int) -> PaddedWindows:
    """Right-pad ``windows`` (at least one) into :class:`PaddedWindows`."""
    width = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    types = np.zeros((len(windows), width), dtype=np.int64)
    attn = np.zeros((len(windows), width), dtype=np.int64)
    ctx = np.zeros((len(windows), width), dtype=np.bool_)
    for row, w in enumerate(windows):
        n = len(w.input_ids)
        ids[row, :n] = w.input_ids
        types[row, :n] = w.token_type_ids
        attn[row, :n] = 1
        ctx[row, :n] = [s is not None for s in w.char_spans]
    return PaddedWindows(ids, types, attn, ctx)


def span_log_probs(logits: Floats, ctx: npt.NDArray[np.bool_]) -> tuple[Floats, Floats]:
    """Start and end log-probabilities over passage tokens only.

    Args:
        logits: ``(batch, tokens, 2)`` head output.
        ctx: ``(batch, tokens)`` True on passage tokens.
    """
    masked = np.where(ctx[:, :, None], logits.astype(np.float32), np.float32(_MASKED))
    top = masked.max(axis=1, keepdims=True)
    lp = masked - top - np.log(np.exp(masked - top).sum(axis=1, keepdims=True))
    return lp[:, :, 0], lp[:, :, 1]


def _span_scores(start_lp: Floats, end_lp: Floats) -> Floats:
    """``(batch, tokens, tokens)`` log-probs of every span; -inf where not allowed."""
    width = start_lp.shape[1]
    idx = np.arange(width)
    allowed = (idx[None, :] >= idx[:, None]) & (idx[None, :] < idx[:, None] + MAX_ANSWER_TOKENS)
    scores = start_lp[:, :, None] + end_lp[:, None, :]
    return np.where(allowed[None], scores, np.float32(-np.inf))


def best_spans(start_lp: Floats, end_lp: Floats) -> list[Span3]:
    """Highest-scoring (start, end, log-prob) with ``start <= end < start + MAX_ANSWER_TOKENS``."""
    return [row[0] for row in top_spans(start_lp, end_lp, 1, 1.0)]


def top_spans(
    start_lp: Floats, end_lp: Floats, max_spans: int, min_ratio: float
) -> list[list[Span3]]:
    """Per row, the best span, then further spans overlapping none chosen before them.

    A further span is kept when its probability is at least ``min_ratio`` times the best
    span's: a passage that names two answers (two signers) splits the start and end
    probabilities between them, so the second scores a fraction of the first, not zero.
    Equal scores are taken in row-major (start, end) order.

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
    scores = _span_scores(np.asarray(start_lp), np.asarray(end_lp))
    width = scores.shape[1]
    flat = scores.reshape(scores.shape[0], -1)
    floor = math.log(min_ratio)
    k = min(MAX_CANDIDATES, flat.shape[1])
    rows: list[list[Span3]] = []
    for row in flat:
        # The k best, best first; a stable sort keeps ties in index order.
        part = np.argpartition(-row, k - 1)[:k] if k < row.shape[0] else np.arange(row.shape[0])
        order = part[np.lexsort((part, -row[part]))]
        chosen: list[Span3] = []
        for arg in order.tolist():
            value = float(row[arg])
            if len(chosen) == max_spans or (chosen and value < chosen[0][2] + floor):
                break
            start, end = arg // width, arg % width
            if all(end < s or start > e for s, e, _ in chosen):
                chosen.append((start, end, value))
        rows.append(chosen)
    return rows


def located(window: Window, raw: Floats, spans: list[Span3]) -> SpanPrediction | None:
    """The window's best span in passage offsets with its further spans as ``extra``;
    None when the best span is not passage text (only passage tokens score, so unseen).

    Args:
        window: The window the spans are in.
        raw: Its ``(tokens, 2)`` logits (a span's ``logit`` is start + end).
        spans: Its chosen spans, best first (:func:`top_spans`).
    """
    best_start, best_end, _ = spans[0]
    if window.char_spans[best_start] is None or window.char_spans[best_end] is None:
        return None
    found = [
        SpanPrediction(first[0], last[1], math.exp(lp), float(raw[s, 0] + raw[e, 1]))
        for s, e, lp in spans
        if (first := window.char_spans[s]) is not None
        and (last := window.char_spans[e]) is not None
    ]
    return replace(found[0], extra=tuple(found[1:]))


def predict_spans(
    windows: Callable[[list[str], list[str]], list[Window]],
    pad_id: int,
    logits: LogitsFn,
    questions: list[str],
    passages: list[str],
    batch_size: int = 16,
    rule: MultiSpanRule = ONE_SPAN,
) -> list[SpanPrediction | None]:
    """Best span per (question, passage) pair; ``None`` for an empty passage.

    A long passage is read in overlapping windows, and its answer is its most probable
    window's best span. Each best span carries, as ``extra``, the further spans of its
    window that ``rule`` lets through (:func:`top_spans`).

    Args:
        windows: The reader's ``(questions, passages) -> windows``.
        pad_id: Its padding token id.
        logits: Its forward pass.
        questions: One question per pair.
        passages: One passage per pair.
        batch_size: Windows per forward pass.
        rule: How many spans a window may give.
    """
    keep = [i for i, p in enumerate(passages) if p.strip()]
    results: list[SpanPrediction | None] = [None] * len(passages)
    if not keep:
        return results
    made = windows([questions[i] for i in keep], [passages[i] for i in keep])
    lengths = [len(w.input_ids) for w in made]
    for batch in length_sorted_batches(lengths, batch_size):
        chunk = [made[k] for k in batch]
        padded = pad_windows(chunk, pad_id)
        raw = logits(padded.input_ids, padded.token_type_ids, padded.attention_mask)
        start_lp, end_lp = span_log_probs(raw, padded.context)
        found = top_spans(start_lp, end_lp, rule.max_spans, rule.min_ratio)
        for row, (w, spans) in enumerate(zip(chunk, found, strict=True)):
            span = located(w, raw[row], spans)
            if span is None:
                continue
            pair = keep[w.pair_index]
            current = results[pair]
            if current is None or span.prob > current.prob:
                results[pair] = span
    return results


class WindowReader:
    """A span reader that reads in windows: :meth:`predict` for every runtime.

    A runtime gives its window maker, padding id and forward pass (:meth:`reading`);
    the span choice is :func:`predict_spans`, shared.
    """

    def reading(self) -> tuple[Callable[[list[str], list[str]], list[Window]], int, LogitsFn]:
        """``(windows, pad_id, logits)`` of this reader."""
        raise NotImplementedError

    def predict(
        self,
        questions: list[str],
        passages: list[str],
        batch_size: int = 16,
        rule: MultiSpanRule = ONE_SPAN,
    ) -> list[SpanPrediction | None]:
        """Best span per (question, passage) pair (:func:`predict_spans`)."""
        windows, pad_id, logits = self.reading()
        return predict_spans(
            windows, pad_id, logits, questions, passages, batch_size=batch_size, rule=rule
        )
