"""The sentence that holds an answer span (sentence boundaries: ``index.passages.sentences``)."""

from __future__ import annotations

from index.passages.sentences import split_sentences


def covering_sentence(text: str, char_start: int, char_end: int) -> tuple[int, int]:
    """Offsets of the sentence(s) of ``text`` that overlap ``[char_start, char_end)``.

    An answer that crosses a (mis-detected) boundary gets every sentence it touches.
    """
    touched = [
        (a, b)
        for a, b in split_sentences(text)
        if a < max(char_end, char_start + 1) and b > char_start
    ]
    if not touched:
        return char_start, char_end
    return min(touched[0][0], char_start), max(touched[-1][1], char_end)
