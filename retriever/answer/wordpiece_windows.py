"""(question, passage) windows for the MiniLM span-model base, from its ``tokenizer.json``.

A window is ``[CLS] question [SEP] passage-part [SEP]``; a long passage is cut into
windows of :data:`~retriever.answer.features.MAX_LEN` word pieces that overlap by
:data:`~retriever.answer.features.STRIDE`, a question is cut to
:data:`~retriever.answer.features.MAX_QUESTION_TOKENS`. These are the windows of a
Hugging Face fast tokenizer called with ``truncation="only_second"`` and overflowing
tokens (``tests/test_reader_onnx.py`` compares them), made with the ``tokenizers``
library alone: ``transformers``' ``AutoTokenizer`` imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from retriever.answer.features import MAX_LEN, MAX_QUESTION_TOKENS, STRIDE, Window

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer


class WordPieceWindows:
    """Tokenise pairs into windows; long passages are split with overlap.

    Args:
        tokenizer_file: The base's ``tokenizer.json``.
    """

    def __init__(self, tokenizer_file: Path) -> None:
        from tokenizers import Tokenizer

        # Two instances, each configured once: truncation is tokenizer state, and
        # changing it per call would race between the server's threads.
        self._plain: Tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._plain.no_padding()
        self._plain.no_truncation()
        self._pairs: Tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._pairs.no_padding()
        self._pairs.enable_truncation(MAX_LEN, stride=STRIDE, strategy="only_second")
        pad = self._plain.token_to_id("[PAD]")
        if pad is None:
            raise ValueError(f"{tokenizer_file} has no [PAD] token")
        self._pad_id = int(pad)

    @property
    def pad_id(self) -> int:
        """Id of ``[PAD]``."""
        return self._pad_id

    def _question(self, question: str) -> str:
        ids = self._plain.encode(question, add_special_tokens=False).ids
        if len(ids) > MAX_QUESTION_TOKENS:
            question = self._plain.decode(ids[:MAX_QUESTION_TOKENS])
        return question if question.strip() else "?"

    def _encoded(self, questions: list[str], passages: list[str]) -> list[Encoding]:
        pairs = [(self._question(q), p) for q, p in zip(questions, passages, strict=True)]
        return self._pairs.encode_batch(pairs)

    def __call__(self, questions: list[str], passages: list[str]) -> list[Window]:
        """Windows of every pair, in pair order; every pair with a non-empty passage
        yields at least one."""
        windows: list[Window] = []
        for pair, first in enumerate(self._encoded(questions, passages)):
            for encoding in (first, *first.overflowing):
                spans = tuple(
                    (a, b) if sid == 1 and b > a else None
                    for sid, (a, b) in zip(encoding.sequence_ids, encoding.offsets, strict=True)
                )
                windows.append(
                    Window(
                        pair_index=pair,
                        input_ids=tuple(encoding.ids),
                        token_type_ids=tuple(encoding.type_ids),
                        char_spans=spans,
                    )
                )
        return windows
