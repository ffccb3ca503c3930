"""What ``docqa search`` and ``docqa ask`` print: one JSON shape, local or through a server.

Hits and answers become the dictionaries the HTTP API returns (``/v1/search`` results,
``/v1/ask`` answer), so ``--json`` output is the same whether the command loaded the
models itself or asked a running server, and the tables are drawn from those dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from retriever.answer.choice import Answer
    from retriever.types import Hit

Payload = dict[str, Any]


def hit_payload(hit: Hit) -> Payload:
    """A hit as ``/v1/search`` returns it."""
    return {
        "rank": hit.rank,
        "score": hit.score,
        "relevance": hit.relevance,
        "passage_id": hit.passage_id,
        "text": hit.text,
        "char_start": hit.citation.char_start,
        "char_end": hit.citation.char_end,
        "citation": asdict(hit.citation),
        "answer": asdict(hit.answer) if hit.answer else None,
        "sentence": asdict(hit.sentence) if hit.sentence else None,
    }


def answer_payload(answer: Answer | None) -> Payload | None:
    """The chosen answer as ``/v1/ask`` returns it (``citation`` counts from 1)."""
    if answer is None:
        return None
    return {
        "text": answer.text,
        "kind": answer.kind.value,
        "fallback": answer.fallback,
        "score": answer.score,
        "citation": answer.passage + 1,
        "document_id": answer.document_id,
        "char_start": answer.span.char_start,
        "char_end": answer.span.char_end,
        "spans": [asdict(span) for span in answer.spans],
    }


def hits_table(title: str, hits: Sequence[Payload], answers: bool) -> Table:
    """Ranked hits (with their answer spans when ``answers``) as a table.

    The number shown is each hit's relevance (the calibrated chance it answers the
    question) where the hits carry one, else the ranking score.
    """
    table = Table(title=title)
    calibrated = bool(hits) and all(hit.get("relevance") is not None for hit in hits)
    shown = "relevance" if calibrated else "score"
    for column in ("#", shown, *(("answer",) if answers else ()), "passage", "source"):
        table.add_column(column)
    for hit in hits:
        cite = hit["citation"]
        row = [str(hit["rank"]), f"{hit[shown]:.3f}"]
        if answers:
            row.append(hit["answer"]["text"] if hit.get("answer") else "")
        text = str(hit["text"])
        row += [
            text if len(text) < 400 else text[:400] + "…",
            f"{cite['title']}\n{cite['document_id']} ¶{cite['paragraph']} "
            f"[{cite['char_start']}:{cite['char_end']}]",
        ]
        table.add_row(*row)
    return table
