"""Lexical evidence inside one sentence: IDF-weighted term coverage and phrase overlap.

A question is usually written from one sentence of its passage, so the words it shares
with that sentence (weighted by how rare they are in the corpus) say more than the words
it shares with the passage as a whole, where they may be scattered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.stores.lexical import LexicalIndex, is_cjk, tokenize
from retriever.types import Floats

#: Words that make a sentence a question (stemmed, as :func:`tokenize` returns them). The
#: BM25 stop list keeps them, but inside one sentence they are evidence of nothing: the
#: answer sentence says "in 1901", not "when".
QUESTION_WORDS = frozenset("who whom whose what which when where whi how did doe do".split())


@dataclass(frozen=True)
class QueryTerms:
    """The distinct terms of a question, with their corpus IDF."""

    terms: tuple[str, ...]
    idf: Floats  # one per term
    bigrams: frozenset[tuple[str, str]]  # adjacent terms of the question
    # Share of the question's IDF weight in terms no passage of the index contains
    # ("Who is the chief executive of Apple?" over an article without Apple or chief).
    unknown: float = 0.0

    @property
    def total_idf(self) -> float:
        return float(self.idf.sum())


def query_terms(question: str, lexical: LexicalIndex) -> QueryTerms:
    """Tokenize ``question`` the way BM25 does and weigh each term by its IDF."""
    tokens = [t for t in tokenize(question) if t not in QUESTION_WORDS]
    distinct = list(dict.fromkeys(tokens))
    df = lexical.document_frequencies(distinct).astype(np.float64)
    n = float(max(lexical.count, 1))
    # Lucene's IDF, as bm25s scores passages: rare terms count most, none is negative.
    every_idf = np.log1p((n - df + 0.5) / (df + 0.5))
    # A term no passage contains is evidence for none of them: leaving it in would only
    # shrink every coverage by the same factor. It says the index may not be about the
    # question at all, which ``unknown`` keeps for the relevance model.
    # Only whole words count toward it: a CJK question is indexed as character bigrams,
    # and a bigram across two of its words is missing from most texts that answer it.
    known = df > 0
    terms = tuple(t for t, k in zip(distinct, known, strict=True) if k)
    words = np.asarray([not is_cjk(t) for t in distinct], dtype=np.bool_)
    total = float(every_idf[words].sum())
    unknown = float(every_idf[words & ~known].sum()) / total if total > 0 else 0.0
    pairs = frozenset(zip(tokens, tokens[1:], strict=False))
    return QueryTerms(terms, every_idf[known], pairs, unknown)


@dataclass(frozen=True)
class SentenceTerms:
    """Term scores of sentences, one entry per sentence."""

    coverage: Floats  # IDF-weighted share of the question's terms the sentence contains
    bigrams: Floats  # share of the question's adjacent term pairs found adjacent


def sentence_terms(query: QueryTerms, sentences: Sequence[str]) -> SentenceTerms:
    """Score every sentence against the question's terms."""
    n = len(sentences)
    coverage = np.zeros(n)
    bigrams = np.zeros(n)
    if not query.terms or not n:
        return SentenceTerms(coverage, bigrams)
    weight = dict(zip(query.terms, query.idf.tolist(), strict=True))
    total = max(query.total_idf, 1e-9)
    for i, sentence in enumerate(sentences):
        tokens = tokenize(sentence)
        present = set(tokens)
        coverage[i] = sum(w for t, w in weight.items() if t in present) / total
        if query.bigrams:
            pairs = set(zip(tokens, tokens[1:], strict=False))
            bigrams[i] = len(query.bigrams & pairs) / len(query.bigrams)
    return SentenceTerms(coverage, bigrams)
