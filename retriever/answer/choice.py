"""Pick the best answer among retrieved passages, in document offsets.

The extractor's spans are relative to the passage text; adding the passage's
``citation.char_start`` turns them into offsets of the document text that
``GET /v1/documents/{id}`` returns, which is what citations promise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from index.passages.sentences import split_sentences
from retriever.answer.types import AnswerExtractor, AnswerSpans
from retriever.types import Hit, Span

_WORD = re.compile(r"\w+", re.UNICODE)
FALLBACK_PASSAGES = 3  # the fallback looks for its sentence in the top passages only


class AnswerKind(StrEnum):
    EXTRACTED = "extracted"  # the span model's answer
    SENTENCE = "sentence"  # fallback: the top passage's sentence sharing most words
    PASSAGE = "passage"  # fallback: the whole top passage


NO_SPANS = AnswerSpans(answer=None, sentence=None, score=0.0)


@dataclass(frozen=True)
class Answer:
    """The chosen answer: its text, where it is, and which passage (0-based) it cites.

    ``text`` and ``span`` are the best answer span; ``spans`` every answer the passage
    gives (two signers), the best first, then the others in passage order, all in
    document offsets. A fallback's ``spans`` is its ``span`` alone.
    """

    text: str
    kind: AnswerKind
    score: float
    passage: int
    document_id: str
    span: Span
    spans: tuple[Span, ...]

    @property
    def fallback(self) -> bool:
        return self.kind is not AnswerKind.EXTRACTED

    @property
    def named(self) -> str:
        """Every answer span in one phrase ("Wu Wei and Chen Xinjian"), as chat says it."""
        return listed([span.text for span in self.spans])


def listed(texts: Sequence[str]) -> str:
    """Answers as one phrase: "A", "A and B", "A, B and C"."""
    if len(texts) <= 1:
        return "".join(texts)
    return f"{', '.join(texts[:-1])} and {texts[-1]}"


def _shifted(span: Span, offset: int) -> Span:
    return Span(span.text, span.char_start + offset, span.char_end + offset)


def _to_document(span: Span | None, hit: Hit) -> Span | None:
    return None if span is None else _shifted(span, hit.citation.char_start)


def _in_document(found: AnswerSpans, hit: Hit) -> AnswerSpans:
    return AnswerSpans(
        answer=_to_document(found.answer, hit),
        sentence=_to_document(found.sentence, hit),
        score=float(found.score),
        logit=float(found.logit),
        extra=tuple(_shifted(span, hit.citation.char_start) for span in found.extra),
    )


def passage_spans(extractor: AnswerExtractor | None, question: str, hit: Hit) -> AnswerSpans:
    """Run the extractor on one hit; no extractor means no spans."""
    if extractor is None:
        return NO_SPANS
    return _in_document(extractor.extract(question, hit.text), hit)


def all_spans(
    extractor: AnswerExtractor | None, question: str, hits: Sequence[Hit]
) -> list[AnswerSpans]:
    """Spans of every hit, in one batched model call when the extractor offers one."""
    if extractor is None:
        return [NO_SPANS for _ in hits]
    batch = getattr(extractor, "extract_batch", None)
    if batch is None:
        return [passage_spans(extractor, question, hit) for hit in hits]
    found = batch(question, [hit.text for hit in hits])
    return [_in_document(f, hit) for f, hit in zip(found, hits, strict=True)]


def with_spans(hit: Hit, spans: AnswerSpans) -> Hit:
    """The hit carrying its answer and sentence spans."""
    return replace(hit, answer=spans.answer, sentence=spans.sentence)


#: Most hits a search marks answers in: the span model costs ~50 ms per passage per core,
#: so 100 marked hits would hold a request for seconds.
MAX_MARKED_HITS = 20


def marked_hits(
    extractor: AnswerExtractor | None, question: str, hits: Sequence[Hit]
) -> tuple[Hit, ...]:
    """Every hit carrying its answer and sentence spans (one batched extractor call)."""
    spans = all_spans(extractor, question, hits)
    return tuple(with_spans(hit, found) for hit, found in zip(hits, spans, strict=True))


def _sentences(hit: Hit) -> Iterator[Span]:
    """Sentences of the hit's passage, in document offsets."""
    offset = hit.citation.char_start
    for start, end in split_sentences(hit.text):
        yield Span(hit.text[start:end], start + offset, end + offset)


def _best_sentence(question: str, hits: Sequence[Hit]) -> tuple[int, Span] | None:
    """The sentence sharing most words with the question; earlier passages win ties."""
    wanted = {w for w in _WORD.findall(question.lower()) if len(w) > 2}
    best: tuple[int, int, Span] | None = None
    for index, hit in enumerate(hits):
        for sentence in _sentences(hit):
            overlap = len(wanted & set(_WORD.findall(sentence.text.lower())))
            if best is None or overlap > best[0]:
                best = (overlap, index, sentence)
    return None if best is None else (best[1], best[2])


def choose_answer(
    question: str,
    hits: Sequence[Hit],
    spans: Sequence[AnswerSpans],
    relevance: Sequence[float | None] | None = None,
) -> Answer | None:
    """The answer of the passage most likely to hold it; else the best top sentence.

    With a calibrated ``relevance`` per hit (reader evidence included), the passage of
    highest relevance that has an answer; without, the best-ranked one. The reader's own
    scores are normalised within a passage, so they do not compare across passages (on
    the sample corpus a confident answer from the 5th passage beat the right one in the
    1st); relevance weighs them with the ranking evidence instead.
    """
    if not hits:
        return None
    with_answer = [i for i, s in enumerate(spans) if s.answer is not None]
    if with_answer:
        index = with_answer[0]
        if relevance is not None and all(relevance[i] is not None for i in with_answer):
            index = max(with_answer, key=lambda i: relevance[i] or 0.0)
        found = spans[index]
        assert found.answer is not None
        return Answer(
            text=found.answer.text,
            kind=AnswerKind.EXTRACTED,
            score=found.score,
            passage=index,
            document_id=hits[index].citation.document_id,
            span=found.answer,
            spans=(found.answer, *found.extra),
        )
    found_sentence = _best_sentence(question, hits[:FALLBACK_PASSAGES])
    if found_sentence is not None:
        index, sentence = found_sentence
        document_id = hits[index].citation.document_id
        return Answer(
            sentence.text, AnswerKind.SENTENCE, 0.0, index, document_id, sentence, (sentence,)
        )
    top = hits[0]
    whole = Span(top.text, top.citation.char_start, top.citation.char_end)
    return Answer(top.text, AnswerKind.PASSAGE, 0.0, 0, top.citation.document_id, whole, (whole,))


def is_found(answer: Answer | None, min_score: float) -> bool:
    """Whether ``answer`` answers the question: an extracted span the span model gives at
    least ``min_score``. Fallback sentences are the closest text, never a found answer."""
    return answer is not None and answer.kind is AnswerKind.EXTRACTED and answer.score >= min_score
