"""``docqa eval``'s outputs: the summary table, the JSON report, the per-question CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path, PurePath

from rich.table import Table

from docqa.evaluation import Scored, Summary
from retriever.types import Hit

#: The per-question CSV's columns, in order (docs/evaluation.md describes each).
COLUMNS = (
    "line",
    "question",
    "outcome",
    "expected_answers",
    "expected_document",
    "predicted_answer",
    "further_answers",
    "found",
    "answer_in_top_k",
    "exact_match",
    "f1",
    "latency_ms",
    "top_documents",
)
JOINER = " | "

Row = dict[str, str | int | float | bool | None]


def _document_name(hit: Hit) -> str:
    return hit.citation.title or PurePath(hit.citation.source).name or hit.citation.document_id


def question_row(scored: Scored) -> Row:
    """One question's line of the CSV (and entry of the JSON's ``questions``)."""
    item, reading = scored.item, scored.reading
    return {
        "line": item.line,
        "question": item.question,
        "outcome": scored.outcome.value,
        "expected_answers": JOINER.join(item.answers),
        "expected_document": item.document,
        "predicted_answer": reading.answer,
        "further_answers": JOINER.join(reading.further),
        "found": reading.found,
        # Answer figures are blank for a question that should not be found.
        "answer_in_top_k": scored.retrieved if item.answerable else None,
        "exact_match": scored.exact if item.answerable else None,
        "f1": scored.f1 if item.answerable else None,
        "latency_ms": round(reading.latency_ms, 3),
        # Each document once, in the order of its best passage.
        "top_documents": JOINER.join(dict.fromkeys(map(_document_name, reading.hits))),
    }


def report_payload(summary: Summary, scored: Sequence[Scored]) -> dict[str, object]:
    """The JSON report: the summary's figures and every question's row."""
    return {"summary": asdict(summary), "questions": [question_row(s) for s in scored]}


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict[str, object]) -> None:
    """Write the JSON report (replacing ``path`` whole, never half-written)."""
    _write_atomically(path, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def _cell(value: str | int | float | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_questions_csv(path: Path, scored: Sequence[Scored]) -> None:
    """Write one CSV line per question: what went wrong (``outcome``) and the evidence."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for s in scored:
        row = question_row(s)
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    _write_atomically(path, buffer.getvalue())


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def summary_table(summary: Summary, title: str) -> Table:
    """The figures as a two-column table."""
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        (
            "questions (answerable / unanswerable)",
            f"{summary.questions} ({summary.answerable} / {summary.unanswerable})",
        ),
        (f"answer in top {summary.top_k} (recall)", _percent(summary.recall_at_k)),
        ("exact match (answerable)", _percent(summary.exact_match)),
        ("F1 (answerable)", _percent(summary.f1)),
        ("found / not found right", _percent(summary.found_accuracy)),
        ("answered (answerable)", _percent(summary.answered_share)),
        ("wrongly answered (unanswerable)", _percent(summary.wrongly_answered_share)),
        ("latency p50 / p95", f"{summary.latency_p50_ms:.0f} / {summary.latency_p95_ms:.0f} ms"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
