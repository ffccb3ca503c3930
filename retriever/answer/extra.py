"""Which further spans of a passage are more answers, not rival guesses.

The span model gives one probability per span. When a passage names two answers
("Wu Wei ... and Chen Xinjian ... represented both parties"), the second one scores a
fraction of the first; but so does a wrong rival when the model is unsure (two dates in
a sentence, two people in a paragraph). Probability alone cannot tell them apart: on
SQuAD questions, which have one answer, a span at a third of the best one's probability
exists in a third of the gold paragraphs. What tells them apart is the text: the answers
to one question are listed together. A further span counts when it is

- in the sentence that holds the best span (that sentence is the answer's context);
- coordinated with it: the words between the two spans hold a coordinating conjunction
  ("and", "or", "as well as", CJK 、和 与 及), as in "A and B", "A, B and C",
  "A signed for the city, and B signed for the company";
- of the same kind: a number (a digit in it) only with a number, a name (every longer
  word capitalised) only with a name, a few words only with a few words (neither more
  than twice as many words as the other, plus one).

The share of the best span's probability a further span needs, and how many there may
be, come from :class:`~retriever.answer.types.MultiSpanRule`; the model applies them
(``spans.top_spans``) and this module the rules on the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retriever.types import Span

# Words between two listed answers: a coordinating conjunction, Latin or CJK.
_CONJUNCTION = re.compile(r"\b(?:and|or|nor|as well as)\b|&|[、和与及]", re.IGNORECASE)
_WORD = re.compile(r"\w+")
#: Words shorter than this may stay lower case inside a name ("Bank of China").
_NAME_WORD_MIN = 4


def _is_number(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _is_name(text: str) -> bool:
    """A capitalised word, and no longer word in lower case: "Wu Wei", "Bank of China".
    Only words in a script with case say anything: in Chinese no answer reads as a name."""
    cased = [w for w in _WORD.findall(text) if w[0] != w[0].swapcase()]
    return any(w[0].isupper() for w in cased) and all(
        w[0].isupper() for w in cased if len(w) >= _NAME_WORD_MIN
    )


def _similar_length(text: str, other: str) -> bool:
    fewer, more = sorted((len(_WORD.findall(text)), len(_WORD.findall(other))))
    return more <= 2 * fewer + 1


def same_kind(text: str, other: str) -> bool:
    """Whether two answers are of one kind: both numbers or neither, both names or
    neither, and of similar length (a name and a clause are not two answers)."""
    return (
        _is_number(text) == _is_number(other)
        and _is_name(text) == _is_name(other)
        and _similar_length(text, other)
    )


def coordinated(passage: str, span: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether the text between two non-overlapping spans of ``passage`` joins them as a list."""
    (a_start, a_end), (b_start, b_end) = sorted((span, other))
    return bool(_CONJUNCTION.search(passage, a_end, b_start)) if a_end <= b_start else False


def further_answers(
    passage: str,
    best: tuple[int, int],
    sentence: tuple[int, int],
    candidates: Sequence[tuple[int, int]],
) -> tuple[Span, ...]:
    """The ``candidates`` that are more answers alongside ``best``, in passage order.

    Args:
        passage: The passage text.
        best: ``(start, end)`` of the best answer span.
        sentence: ``(start, end)`` of the sentence(s) holding ``best``.
        candidates: ``(start, end)`` of further spans the model scored high enough, none
            overlapping ``best`` or each other (trimmed like the answer).
    """
    best_text = passage[best[0] : best[1]]
    kept = [
        (start, end)
        for start, end in candidates
        if start < end
        and sentence[0] <= start
        and end <= sentence[1]
        and (end <= best[0] or start >= best[1])
        and coordinated(passage, best, (start, end))
        and same_kind(best_text, passage[start:end])
    ]
    return tuple(Span.of(passage, start, end) for start, end in sorted(kept))
