"""Answer a question with ranked, cited passages from the current index generation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from index.encoders.base import Encoder, Vectors
from index.encoders.specs import as_encoders
from index.filters import MetadataFilter
from index.formats.pdf.boxes import WordBoxRow, line_boxes
from index.lifecycle.handle import IndexHandle
from index.lifecycle.snapshot import IndexSnapshot
from index.models import Passage, Ranked
from index.stores.passages import PassageStore
from retriever.errors import QueryError, too_long_query
from retriever.fusion import Fusion, normalized_score_fusion, reciprocal_rank_fusion
from retriever.relevance import RelevanceModel, ranked_evidence, signal_evidence
from retriever.rerank.signals import Signals
from retriever.rerank.stage import Reranker, Rescored
from retriever.single_query import one_faiss_thread
from retriever.types import Citation, Hit, Mode, SearchResult

MAX_TOP_K = 100


@dataclass(frozen=True)
class SearchOptions:
    """Tuning of ranking; defaults come from Settings at the edges."""

    mode: Mode = Mode.HYBRID
    candidates: int = 50
    fusion: Fusion = Fusion.SCORE
    rrf_k: int = 60
    encoder_weights: Mapping[str, float] = field(default_factory=dict)  # default 1.0 each
    lexical_weight: float = 1.0
    max_query_chars: int = 2000
    rerank_depth: int = 50  # fused candidates the second stage re-scores (hybrid mode)


def _citation(passage: Passage, store: PassageStore) -> Citation:
    words: tuple[WordBoxRow, ...] = ()
    if passage.page is not None:
        words = tuple(store.word_boxes(passage.document_id, passage.char_start, passage.char_end))
    boxes = line_boxes(words, passage.char_start, passage.char_end)
    return Citation(
        document_id=passage.document_id,
        title=passage.title,
        source=passage.source,
        paragraph=passage.paragraph,
        char_start=passage.char_start,
        char_end=passage.char_end,
        page=passage.page,
        section=passage.section,
        pages=tuple(sorted({box.page for box in boxes})),
        boxes=tuple(boxes),
        words=words,
    )


class Retriever:
    """Dense, lexical or hybrid search over an :class:`IndexHandle`.

    Hybrid search fuses BM25 and every encoder's ranking, then, when a ``second_stage``
    is given, re-scores the fused top ``rerank_depth`` with it. With a ``relevance``
    model, each hit also carries its calibrated relevance (where the evidence it reads
    exists: hybrid mode with the linear second stage).
    """

    def __init__(
        self,
        handle: IndexHandle,
        encoders: Encoder | Sequence[Encoder],
        options: SearchOptions | None = None,
        second_stage: Reranker | None = None,
        relevance: RelevanceModel | None = None,
    ) -> None:
        self.handle = handle
        self.encoders = as_encoders(encoders)
        self.options = options or SearchOptions()
        self.second_stage = second_stage
        self.relevance = relevance

    def check(self, question: str, k: int) -> str:
        """Validate a question; returns it stripped."""
        stripped = question.strip()
        if not stripped:
            raise QueryError("query must not be empty")
        if len(stripped) > self.options.max_query_chars:
            raise QueryError(too_long_query(len(stripped), self.options.max_query_chars))
        if not 1 <= k <= MAX_TOP_K:
            raise QueryError(f"top_k must be between 1 and {MAX_TOP_K}, got {k}")
        return stripped

    def encode_queries(self, questions: list[str]) -> dict[str, Vectors]:
        """Query vectors of every encoder, for batch evaluation."""
        return {e.name: e.encode_queries(questions) for e in self.encoders}

    def rankings(
        self,
        snapshot: IndexSnapshot,
        question: str,
        depth: int,
        mode: Mode,
        query_vectors: Mapping[str, Vectors] | None = None,
        allowed: npt.NDArray[np.int64] | None = None,
        filters: MetadataFilter | None = None,
    ) -> dict[str, Ranked]:
        """Each signal's ranking (``"bm25"`` and one per encoder) that ``mode`` uses."""
        found: dict[str, Ranked] = {}
        if mode in (Mode.DENSE, Mode.HYBRID):
            for encoder in self.encoders:
                vector = (query_vectors or {}).get(encoder.name)
                if vector is None:
                    vector = encoder.encode_queries([question])
                with one_faiss_thread():
                    hits = snapshot.dense[encoder.name].search(vector, depth, allowed, filters)
                found[encoder.name] = hits[0]
        if mode in (Mode.LEXICAL, Mode.HYBRID):
            found["bm25"] = snapshot.lexical.search(question, depth, allowed)
        return found

    def fuse(self, rankings: Mapping[str, Ranked]) -> Ranked:
        """One ranking: a single signal as is, several by weighted fusion (RRF by default)."""
        if len(rankings) == 1:
            return list(next(iter(rankings.values())))
        weights = [
            self.options.lexical_weight
            if name == "bm25"
            else self.options.encoder_weights.get(name, 1.0)
            for name in rankings
        ]
        if self.options.fusion == Fusion.SCORE:
            return normalized_score_fusion(list(rankings.values()), weights)
        return reciprocal_rank_fusion(list(rankings.values()), weights, k=self.options.rrf_k)

    def rescored(
        self,
        snapshot: IndexSnapshot,
        question: str,
        k: int,
        mode: Mode,
        query_vectors: Mapping[str, Vectors] | None = None,
        allowed: npt.NDArray[np.int64] | None = None,
        filters: MetadataFilter | None = None,
    ) -> Rescored:
        """``(vector_id, score)`` best first (``.ranked``), for ``k`` hits or more, with the
        second stage's signals where it gathered them (``.signals``).

        In hybrid mode with a second stage, only the re-scored top
        ``max(k, rerank_depth)`` candidates are returned.
        """
        depth = max(k, self.options.candidates)
        vectors = dict(query_vectors or {})
        if mode in (Mode.DENSE, Mode.HYBRID):
            for encoder in self.encoders:
                if encoder.name not in vectors:
                    vectors[encoder.name] = encoder.encode_queries([question])
        fused = self.fuse(self.rankings(snapshot, question, depth, mode, vectors, allowed, filters))
        if mode != Mode.HYBRID or self.second_stage is None:
            return Rescored(fused)
        head = fused[: max(k, self.options.rerank_depth)]
        return self.second_stage.rescore(snapshot, question, vectors, head)

    def _judged_signals(
        self,
        snapshot: IndexSnapshot,
        query: str,
        asked: str | None,
        kept: Ranked,
        rescored: Rescored,
    ) -> Signals | None:
        """The signals relevance reads: the search's own, or, for a follow-up (``asked``
        differs from the search ``query``), the second stage's on the kept hits for
        ``asked`` alone (one more question encoding per encoder)."""
        if (
            asked is None
            or asked.strip() == query
            or rescored.signals is None
            or self.relevance is None
            or self.second_stage is None
            or not kept
        ):
            return rescored.signals
        own = asked.strip()
        vectors = {e.name: e.encode_queries([own]) for e in self.encoders}
        return self.second_stage.rescore(snapshot, own, vectors, kept).signals

    def search(
        self,
        question: str,
        k: int = 5,
        mode: Mode | None = None,
        filters: MetadataFilter | None = None,
        asked: str | None = None,
    ) -> SearchResult:
        """The top-``k`` passages for ``question``, each with its citation.

        ``asked`` is the question as the user asked it, when ``question`` is a follow-up's
        search query carrying earlier turns' terms (:mod:`retriever.conversation`). Those
        terms help find passages, but relevance reads the evidence for ``asked``: else a
        change of topic would find the previous topic's passage "relevant" through them.

        Raises:
            QueryError: empty or over-long question, or ``k`` out of range.
        """
        question = self.check(question, k)
        chosen = mode or self.options.mode
        snapshot = self.handle.current()
        allowed = None
        if filters is not None and not filters.is_empty():
            allowed = np.asarray(snapshot.store.vector_ids_where(filters.matches), dtype=np.int64)
        rescored = self.rescored(snapshot, question, k, chosen, allowed=allowed, filters=filters)
        ranked = rescored.ranked[:k]
        passages = snapshot.store.passages_by_vector_id([vid for vid, _ in ranked])
        kept = [(vid, score) for vid, score in ranked if vid in passages]
        signals = signal_evidence(
            self._judged_signals(snapshot, question, asked, kept, rescored),
            {vid for vid, _ in kept},
        )
        hits = []
        for rank, (vid, score) in enumerate(kept, start=1):
            evidence = ranked_evidence(signals[vid], rank, score) if vid in signals else {}
            hits.append(
                Hit(
                    rank=rank,
                    score=score,
                    passage_id=passages[vid].passage_id,
                    text=passages[vid].text,
                    citation=_citation(passages[vid], snapshot.store),
                    relevance=self.relevance.probability(evidence) if self.relevance else None,
                    evidence=evidence,
                )
            )
        return SearchResult(
            query=question, hits=tuple(hits), generation=snapshot.generation, mode=chosen
        )
