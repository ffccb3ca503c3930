"""Lexical evidence inside one sentence: IDF-weighted term coverage and phrase overlap.

A question is usually written from one sentence of its passage, so the words it shares
with that sentence (weighted by how rare they are in the corpus) say more than the words
it shares with the passage as a whole, where they may be scattered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.stores.lexical import LexicalIndex, tokenize
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

    @property
    def total_idf(self) -> float:
        return float(self.idf.sum())


def query_terms(question: str, lexical: LexicalIndex) -> QueryTerms:
    """Tokenize ``question`` the way BM25 does and weigh each term by its IDF."""
    tokens = [t for t in tokenize(question) if t not in QUESTION_WORDS]
    distinct = list(dict.fromkeys(tokens))
    df = lexical.document_frequencies(distinct).astype(np.float64)
    # A term no passage contains is evidence for none of them: leaving it in would only
    # shrink every coverage by the same factor.
    terms = tuple(t for t, d in zip(distinct, df, strict=True) if d > 0)
    df = df[df > 0]
    n = float(max(lexical.count, 1))
    # Lucene's IDF, as bm25s scores passages: rare terms count most, none is negative.
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    return QueryTerms(terms, idf, frozenset(zip(tokens, tokens[1:], strict=False)))


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
