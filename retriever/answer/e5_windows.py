"""(question, passage) windows for the e5 (XLM-R SentencePiece) span-model base.

:func:`retriever.answer.features.make_windows` needs a Hugging Face fast tokenizer;
e5 here has only the engine's vocabulary (:class:`index.encoders.e5.tokenizer.E5Tokenizer`), which
gives ids but no character offsets. This module tokenises with the same Unigram pieces
while keeping, for every piece, its character span in the *original* text, and frames
windows the XLM-R way: ``<s> question </s></s> passage-part </s>``, token types all 0.
Window length, stride and question cut are those of ``features`` (the same reader recipe).
"""

from __future__ import annotations

import re

from index.encoders.e5.checkpoint import E5Vocab
from index.encoders.e5.tokenizer import unigram_tokenizer
from retriever.answer.features import MAX_LEN, MAX_QUESTION_TOKENS, STRIDE, Window

_SPACE = re.compile(r"\s")

Pieces = tuple[list[int], list[tuple[int, int] | None]]


class E5Windows:
    """Tokenise with offsets and cut pairs into windows (callable like ``make_windows``).

    Args:
        vocab: The e5 vocabulary (``load_tokenizer(converted_dir).vocab``).
    """

    def __init__(self, vocab: E5Vocab) -> None:
        self._vocab = vocab
        self._table = dict(vocab.normalization)
        self._fast = unigram_tokenizer(vocab)

    @property
    def vocab(self) -> E5Vocab:
        """The vocabulary (``vocab.pieces[i]`` is the text of id ``i``)."""
        return self._vocab

    @property
    def pad_id(self) -> int:
        """Id of ``<pad>``."""
        return self._vocab.pad

    def pieces(self, text: str) -> Pieces:
        """Content ids of ``text`` and each piece's span in ``text`` (``None``: blank).

        Normalisation (the engine's codepoint map, then one space per run) is done here
        with a map from normalised back to original positions, so offsets survive it.
        """
        chars: list[str] = []
        source: list[int] = []
        for index, char in enumerate(text):
            mapped = self._table.get(ord(char), char)
            for out in mapped:
                if out == " " and chars and chars[-1] == " ":
                    continue
                chars.append(out)
                source.append(index)
        if not chars:
            return [], []
        encoding = self._fast.encode("".join(chars), add_special_tokens=False)
        spans: list[tuple[int, int] | None] = []
        for a, b in encoding.offsets:
            if b <= a:
                spans.append(None)
                continue
            start, end = source[a], source[b - 1] + 1
            # A piece's span may include the space its metaspace stands for: drop it.
            while start < end and _SPACE.match(text[start]):
                start += 1
            while end > start and _SPACE.match(text[end - 1]):
                end -= 1
            spans.append((start, end) if end > start else None)
        return list(encoding.ids), spans

    def __call__(self, questions: list[str], passages: list[str]) -> list[Window]:
        """Windows of every pair, in pair order (see ``features.make_windows``)."""
        bos, eos = self._vocab.bos, self._vocab.eos
        windows: list[Window] = []
        for pair, (question, passage) in enumerate(zip(questions, passages, strict=True)):
            q_ids = self.pieces(question)[0][:MAX_QUESTION_TOKENS]
            p_ids, p_spans = self.pieces(passage)
            head = (bos, *q_ids, eos, eos)
            width = max(1, MAX_LEN - len(head) - 1)
            start = 0
            while True:
                ids = p_ids[start : start + width]
                spans = p_spans[start : start + width]
                windows.append(
                    Window(
                        pair_index=pair,
                        input_ids=(*head, *ids, eos),
                        token_type_ids=(0,) * (len(head) + len(ids) + 1),
                        char_spans=(*([None] * len(head)), *spans, None),
                    )
                )
                if start + width >= len(p_ids):
                    break
                start += max(1, width - STRIDE)
        return windows
