"""Answer a question with ranked, cited passages from the current index generation."""

from __future__ import annotations

from dataclasses import dataclass

from index.embedder import Embedder, Vectors
from index.handle import IndexHandle
from index.models import Passage
from index.snapshot import IndexSnapshot
from retriever.errors import QueryError
from retriever.fusion import reciprocal_rank_fusion
from retriever.types import Citation, Hit, Mode, SearchResult

MAX_TOP_K = 100


@dataclass(frozen=True)
class SearchOptions:
    """Tuning of ranking; defaults come from Settings at the edges."""

    mode: Mode = Mode.HYBRID
    candidates: int = 50
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    max_query_chars: int = 2000


def _citation(passage: Passage) -> Citation:
    return Citation(
        document_id=passage.document_id,
        title=passage.title,
        source=passage.source,
        paragraph=passage.paragraph,
        char_start=passage.char_start,
        char_end=passage.char_end,
        page=passage.page,
        section=passage.section,
    )


class Retriever:
    """Dense, lexical or hybrid search over an :class:`IndexHandle`."""

    def __init__(
        self, handle: IndexHandle, embedder: Embedder, options: SearchOptions | None = None
    ) -> None:
        self.handle = handle
        self.embedder = embedder
        self.options = options or SearchOptions()

    def check(self, question: str, k: int) -> str:
        """Validate a question; returns it stripped."""
        stripped = question.strip()
        if not stripped:
            raise QueryError("query must not be empty")
        if len(stripped) > self.options.max_query_chars:
            raise QueryError(
                f"query is {len(stripped)} characters; the limit is {self.options.max_query_chars}"
            )
        if not 1 <= k <= MAX_TOP_K:
            raise QueryError(f"top_k must be between 1 and {MAX_TOP_K}, got {k}")
        return stripped

    def rank(
        self,
        snapshot: IndexSnapshot,
        question: str,
        k: int,
        mode: Mode,
        query_vector: Vectors | None = None,
    ) -> list[tuple[int, float]]:
        """``(vector_id, score)`` best first, for ``k`` hits or more.

        ``query_vector`` (shape ``(1, d)``) skips encoding, for batch evaluation.
        """
        depth = max(k, self.options.candidates)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode in (Mode.DENSE, Mode.HYBRID):
            if query_vector is None:
                query_vector = self.embedder.encode_queries([question])
            dense = snapshot.dense.search(query_vector, depth)[0]
        if mode in (Mode.LEXICAL, Mode.HYBRID):
            lexical = snapshot.lexical.search(question, depth)
        if mode is Mode.DENSE:
            return dense
        if mode is Mode.LEXICAL:
            return lexical
        return reciprocal_rank_fusion(
            [dense, lexical],
            [self.options.dense_weight, self.options.lexical_weight],
            k=self.options.rrf_k,
        )

    def search(self, question: str, k: int = 5, mode: Mode | None = None) -> SearchResult:
        """The top-``k`` passages for ``question``, each with its citation.

        Raises:
            QueryError: empty or over-long question, or ``k`` out of range.
        """
        question = self.check(question, k)
        chosen = mode or self.options.mode
        snapshot = self.handle.current()
        ranked = self.rank(snapshot, question, k, chosen)[:k]
        passages = snapshot.store.passages_by_vector_id([vid for vid, _ in ranked])
        hits = tuple(
            Hit(
                rank=rank,
                score=score,
                passage_id=passages[vid].passage_id,
                text=passages[vid].text,
                citation=_citation(passages[vid]),
            )
            for rank, (vid, score) in enumerate(
                ((vid, score) for vid, score in ranked if vid in passages), start=1
            )
        )
        return SearchResult(query=question, hits=hits, generation=snapshot.generation, mode=chosen)
