"""Whether an answer counts as found: the "not in your documents" decision."""

from __future__ import annotations

from dataclasses import dataclass, replace

from retriever.answer.choice import Answer, is_found, with_spans
from retriever.answer.types import AnswerSpans
from retriever.relevance import RelevanceModel, reader_evidence
from retriever.types import Hit


@dataclass(frozen=True)
class FoundRule:
    """When an extracted answer counts as found (from Settings, at the edges).

    With a ``relevance`` model the answer's passage must reach ``min_relevance``: the
    calibrated chance that it answers the question, reader evidence included. Where the
    model does not apply (an index without its signals), the span model's in-passage
    probability must reach ``min_score`` instead.
    """

    min_relevance: float = 0.0
    min_score: float = 0.0
    relevance: RelevanceModel | None = None

    def judge(self, hit: Hit, spans: AnswerSpans) -> Hit:
        """``hit`` with its answer spans and, given the evidence, its answer relevance."""
        marked = with_spans(hit, spans)
        if self.relevance is None or spans.answer is None:
            return marked
        evidence = reader_evidence(hit.evidence, spans.logit, spans.score)
        relevance = self.relevance.probability(evidence)
        return marked if relevance is None else replace(marked, relevance=relevance)

    def found(self, answer: Answer | None, hits: tuple[Hit, ...]) -> bool:
        """Whether ``answer`` (chosen from ``hits``) answers the question."""
        if answer is None or not is_found(answer, 0.0):  # no answer, or a fallback
            return False
        # The answer model reads the search evidence plus the reader's: where it applies
        # the hit's relevance is the answer relevance, else there is none.
        relevance = hits[answer.passage].relevance if self.relevance is not None else None
        if relevance is None:
            return is_found(answer, self.min_score)
        return relevance >= self.min_relevance
