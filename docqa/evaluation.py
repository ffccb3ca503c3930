"""Score an index against a user's own questions with expected answers (``docqa eval``).

Each question is answered the way ``/v1/ask`` answers it (retrieve, then read, then
decide ``found``), by an :data:`Answerer`; tests pass a deterministic one. Scoring
needs no passage labels: a passage "holds the answer" when an expected answer occurs
in it (SQuAD-normalised, on whole tokens), and the extracted answer is scored with
SQuAD EM / token F1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING

from docqa.qa_file import QAItem
from retriever.answer.metrics import contains_answer, max_over_ground_truths
from retriever.types import Hit

if TYPE_CHECKING:
    from retriever.answer.found import FoundRule
    from retriever.answer.types import AnswerExtractor
    from retriever.searcher import Retriever
    from retriever.types import Mode


@dataclass(frozen=True)
class Reading:
    """What the system did with one question.

    Attributes:
        hits: The top-k passages, best first.
        answer: The chosen answer's text, kept when not ``found`` (the closest text);
            None when there was none at all.
        found: Whether the answer counts as found (``/v1/ask``'s ``found``).
        latency_ms: Time to retrieve and read, in milliseconds.
        further: The answer's further spans (the second signer), shown but not scored.
    """

    hits: tuple[Hit, ...]
    answer: str | None
    found: bool
    latency_ms: float
    further: tuple[str, ...] = ()


#: Answers one question (already stripped and checked).
Answerer = Callable[[str], Reading]


class Outcome(StrEnum):
    """What happened to one question: its first problem, in the order retrieve, find,
    extract. The scores are kept whatever the outcome."""

    CORRECT = "correct"  # answerable: retrieved, found, exact match; else: not found
    NOT_RETRIEVED = "not retrieved"  # no top-k passage (of the document) holds an answer
    NOT_FOUND = "not found but answerable"  # a passage holds it; no answer was found
    WRONG_ANSWER = "wrong answer"  # found, but not an exact match (see f1)
    WRONGLY_ANSWERED = "answered but should not be found"


@dataclass(frozen=True)
class Scored:
    """One question's reading and its scores.

    ``retrieved``, ``exact`` and ``f1`` apply to answerable questions; for the others
    they are False and 0.0. A not-found answer scores 0 whatever its text.
    """

    item: QAItem
    reading: Reading
    retrieved: bool
    exact: float
    f1: float
    outcome: Outcome


@dataclass(frozen=True)
class Summary:
    """The figures over all questions; a share is None when nothing is there to share."""

    top_k: int
    questions: int
    answerable: int
    unanswerable: int
    recall_at_k: float | None  # answerable questions with an answer in the top k
    exact_match: float | None  # over answerable questions
    f1: float | None  # over answerable questions
    found_accuracy: float  # answerable found + unanswerable not found, over all
    answered_share: float | None  # answerable questions found
    wrongly_answered_share: float | None  # unanswerable questions found
    latency_p50_ms: float
    latency_p95_ms: float


def document_matches(hit: Hit, document: str) -> bool:
    """Whether ``hit`` comes from ``document``: its id (exact), its title or its source
    file's name, with or without the extension (both case-insensitive)."""
    wanted = document.strip()
    if hit.citation.document_id == wanted:
        return True
    folded = wanted.casefold()
    source = PurePath(hit.citation.source)
    names = (hit.citation.title, source.name, source.stem)
    return any(name.strip().casefold() == folded for name in names if name)


def answer_retrieved(item: QAItem, hits: Sequence[Hit]) -> bool:
    """Whether an expected answer occurs in one of ``hits`` (from ``item.document``
    when the item names one)."""
    return any(
        contains_answer(hit.text, item.answers)
        for hit in hits
        if item.document is None or document_matches(hit, item.document)
    )


def score(item: QAItem, reading: Reading) -> Scored:
    """Score one reading against the item's expected answers."""
    if not item.answerable:
        outcome = Outcome.WRONGLY_ANSWERED if reading.found else Outcome.CORRECT
        return Scored(item, reading, False, 0.0, 0.0, outcome)
    retrieved = answer_retrieved(item, reading.hits)
    text = reading.answer if reading.found and reading.answer is not None else None
    exact = max_over_ground_truths(text, item.answers, exact=True) if text is not None else 0.0
    f1 = max_over_ground_truths(text, item.answers, exact=False) if text is not None else 0.0
    if not retrieved:
        outcome = Outcome.NOT_RETRIEVED
    elif not reading.found:
        outcome = Outcome.NOT_FOUND
    elif exact < 1.0:
        outcome = Outcome.WRONG_ANSWER
    else:
        outcome = Outcome.CORRECT
    return Scored(item, reading, retrieved, exact, f1, outcome)


def evaluate(
    items: Sequence[QAItem],
    answerer: Answerer,
    on_question: Callable[[Scored], None] | None = None,
) -> list[Scored]:
    """Answer and score every item in order; ``on_question`` sees each as it is done."""
    done: list[Scored] = []
    for item in items:
        scored = score(item, answerer(item.question))
        done.append(scored)
        if on_question is not None:
            on_question(scored)
    return done


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), numpy's linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    import numpy as np

    return float(np.percentile(values, q))


def _share(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def summarize(scored: Sequence[Scored], top_k: int) -> Summary:
    """The figures of :class:`Summary` over ``scored``."""
    answerable = [s for s in scored if s.item.answerable]
    unanswerable = [s for s in scored if not s.item.answerable]
    latencies = [s.reading.latency_ms for s in scored]
    return Summary(
        top_k=top_k,
        questions=len(scored),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        recall_at_k=_share(sum(s.retrieved for s in answerable), len(answerable)),
        exact_match=_share(sum(s.exact for s in answerable), len(answerable)),
        f1=_share(sum(s.f1 for s in answerable), len(answerable)),
        found_accuracy=(
            sum(s.reading.found == s.item.answerable for s in scored) / len(scored)
            if scored
            else 0.0
        ),
        answered_share=_share(sum(s.reading.found for s in answerable), len(answerable)),
        wrongly_answered_share=_share(
            sum(s.reading.found for s in unanswerable), len(unanswerable)
        ),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
    )


class LocalAnswerer:
    """Answers as ``docqa ask`` does, in this process: search, then :func:`read_now`
    (one batch of spans, the chosen answer, ``found`` by the ``rule``), timed."""

    def __init__(
        self,
        retriever: Retriever,
        extractor: AnswerExtractor | None,
        top_k: int,
        mode: Mode | None,
        rule: FoundRule,
    ) -> None:
        self._retriever = retriever
        self._extractor = extractor
        self._top_k = top_k
        self._mode = mode
        self._rule = rule

    def __call__(self, question: str) -> Reading:
        from retriever.answer.retrieve_read import read_now

        started = time.perf_counter()
        result = self._retriever.search(question, self._top_k, self._mode, None)
        answered = read_now(self._extractor, result, question, self._rule)
        latency_ms = (time.perf_counter() - started) * 1000
        answer = answered.answer
        if answer is None:
            return Reading(answered.hits, None, answered.found, latency_ms)
        further = tuple(span.text for span in answer.spans[1:])
        return Reading(answered.hits, answer.text, answered.found, latency_ms, further)
