"""Tokenisation of (question, passage) pairs into model windows with character offsets."""

from __future__ import annotations

from dataclasses import dataclass

#: Longest window fed to the encoder, in word pieces (question + passage + specials).
MAX_LEN = 384
#: Overlap between consecutive windows of a long passage, in word pieces.
STRIDE = 128
#: Longest question kept, in word pieces (longer ones are cut so the passage keeps room).
MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    """One encoder input window over a passage.

    Attributes:
        pair_index: Index of the (question, passage) pair this window belongs to.
        input_ids: Word-piece ids, ``[CLS] question [SEP] passage-part [SEP]``.
        token_type_ids: Segment ids (0 for the question, 1 for the passage).
        char_spans: For each token, ``(start, end)`` character offsets into the passage,
            or ``None`` for question and special tokens.
    """

    pair_index: int
    input_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    char_spans: tuple[tuple[int, int] | None, ...]


def token_targets(window: Window, char_start: int, char_end: int) -> tuple[int, int] | None:
    """Map a character span of the passage to (start token, end token) inside ``window``.

    Returns:
        Inclusive token indices, or ``None`` when the span is not fully inside the window.
    """
    ctx = [s for s in window.char_spans if s is not None]
    if not ctx or char_start < ctx[0][0] or char_end > ctx[-1][1]:
        return None
    start_tok: int | None = None
    end_tok: int | None = None
    for t, span in enumerate(window.char_spans):
        if span is None:
            continue
        if start_tok is None and span[1] > char_start:
            start_tok = t
        if span[0] < char_end:
            end_tok = t
    if start_tok is None or end_tok is None or end_tok < start_tok:
        return None
    return start_tok, end_tok
