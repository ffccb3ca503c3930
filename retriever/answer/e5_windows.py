"""(question, passage) windows for the e5 (XLM-R SentencePiece) span-model base.

:class:`retriever.answer.wordpiece_windows.WordPieceWindows` reads a ``tokenizer.json``;
e5 here has only the engine's vocabulary (:class:`index.encoders.e5.tokenizer.E5Tokenizer`), which
gives ids but no character offsets. This module tokenises with the same Unigram pieces
while keeping, for every piece, its character span in the *original* text, and frames
windows the XLM-R way: ``<s> question </s></s> passage-part </s>``, token types all 0.
Window length, stride and question cut are those of ``features`` (the same reader recipe).
"""

from __future__ import annotations

from index.encoders.e5.checkpoint import E5Vocab
from index.encoders.e5.tokenizer import E5Tokenizer
from retriever.answer.features import MAX_LEN, MAX_QUESTION_TOKENS, STRIDE, Window

Pieces = tuple[list[int], list[tuple[int, int] | None]]


class E5Windows:
    """Tokenise with offsets and cut pairs into windows (callable like ``WordPieceWindows``).

    Args:
        tokenizer: The e5 encoder's tokenizer (``load_tokenizer(converted_dir)``); its
            Unigram model (a few hundred MB for 250k pieces) is shared, not rebuilt.
    """

    def __init__(self, tokenizer: E5Tokenizer) -> None:
        self._vocab = tokenizer.vocab
        self._tokenizer = tokenizer

    @property
    def vocab(self) -> E5Vocab:
        """The vocabulary (``vocab.pieces[i]`` is the text of id ``i``)."""
        return self._vocab

    @property
    def pad_id(self) -> int:
        """Id of ``<pad>``."""
        return self._vocab.pad

    def pieces(self, text: str) -> Pieces:
        """Content ids of ``text`` and each piece's span in ``text`` (``None``: blank)."""
        return self._tokenizer.pieces(text)

    def __call__(self, questions: list[str], passages: list[str]) -> list[Window]:
        """Windows of every pair, in pair order (see ``WordPieceWindows``)."""
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
