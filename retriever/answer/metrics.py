"""SQuAD v1.1 answer normalisation, EM and token F1, as in the official ``evaluate-v1.1.py``.

The one copy: ``docqa eval`` scores a user's own questions with it, and the lab
scripts (``scripts/lab/squad_metrics.py`` re-exports it) score SQuAD with it.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation and articles (a/an/the), collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, ground_truth: str) -> float:
    """1.0 if the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-level F1 between the normalised strings."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(ground_truth).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def max_over_ground_truths(prediction: str, ground_truths: Sequence[str], exact: bool) -> float:
    """Best EM (``exact=True``) or F1 of ``prediction`` over all gold answers.

    Returns:
        The score in [0, 1]; 0.0 when there is no gold answer.
    """
    metric = exact_match if exact else f1_score
    return max((metric(prediction, gt) for gt in ground_truths), default=0.0)


def _unspaced(ch: str) -> bool:
    """A character of a script written without spaces between words (Chinese, Japanese,
    Thai, ...), or Korean, whose words carry their particles attached."""
    code = ord(ch)
    return code >= 0x2E80 or 0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F


def _joined(left: str, right: str) -> bool:
    """Whether two adjacent characters belong to one word of a spaced script."""
    return all(ch.isalnum() and not _unspaced(ch) for ch in (left, right))


def contains_answer(text: str, ground_truths: Sequence[str]) -> bool:
    """Whether a gold answer occurs in ``text``, both SQuAD-normalised, as whole words.

    "Li Guobiao" occurs in "... governor Li Guobiao said", "Guo" does not; in scripts
    written without spaces any occurrence counts ("李明华" in "李明华代表村民委员会签字").
    An answer that normalises to nothing (only punctuation or articles) occurs nowhere.
    """
    haystack = normalize_answer(text)
    for gold in filter(None, map(normalize_answer, ground_truths)):
        start = haystack.find(gold)
        while start != -1:
            end = start + len(gold)
            before = haystack[start - 1] if start else " "
            after = haystack[end] if end < len(haystack) else " "
            if not _joined(before, gold[0]) and not _joined(gold[-1], after):
                return True
            start = haystack.find(gold, start + 1)
    return False
