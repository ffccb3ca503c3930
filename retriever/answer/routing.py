"""Which span model reads a passage: MiniLM for Latin-script text, e5 for other scripts.

Both readers were fine-tuned on the same 32 English SQuAD articles. On English they score
alike (held-out F1 50.4 MiniLM, 51.1 e5) and MiniLM is twice as fast; MiniLM's English
word pieces cannot read Chinese, where the multilingual e5 reader transfers (a Chinese
question over a Chinese passage gets its answer). So the question and each passage are
routed by script.
"""

from __future__ import annotations

import re

from retriever.answer.types import AnswerExtractor, AnswerSpans

_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
#: A text whose letters are at least this share non-Latin goes to the multilingual reader.
NON_LATIN_SHARE = 0.3


def non_latin_share(text: str) -> float:
    """Share of the letters of ``text`` outside the Latin script (0.0 with no letters)."""
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return 0.0
    return (letters - len(_LATIN.findall(text))) / letters


def needs_multilingual(question: str, passage: str) -> bool:
    """Whether the question or the passage is mostly in a non-Latin script."""
    return max(non_latin_share(question), non_latin_share(passage)) >= NON_LATIN_SHARE


class RoutedExtractor:
    """An :class:`AnswerExtractor` sending each passage to the reader its script needs.

    Args:
        latin: The reader for Latin-script questions and passages (MiniLM).
        multilingual: The reader for the rest (e5).
    """

    def __init__(self, latin: AnswerExtractor, multilingual: AnswerExtractor) -> None:
        self._readers = {False: latin, True: multilingual}

    def extract(self, question: str, passage: str) -> AnswerSpans:
        return self.extract_batch(question, [passage])[0]

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        """One batched call per reader; results in the order of ``passages``."""
        routes = [needs_multilingual(question, p) for p in passages]
        found: dict[int, AnswerSpans] = {}
        for route, reader in self._readers.items():
            chosen = [i for i, r in enumerate(routes) if r is route]
            if chosen:
                spans = reader.extract_batch(question, [passages[i] for i in chosen])
                found.update(zip(chosen, spans, strict=True))
        return [found[i] for i in range(len(passages))]
