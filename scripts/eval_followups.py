"""Follow-up questions: top-3 accuracy with and without the conversation's context.

Usage: python scripts/eval_followups.py [--index-dir DIR] [--questions-only] [--json PATH]

Each line of ``scripts/data/followups.jsonl`` is a conversation: earlier turns (a
question and the answer the reader gave), a follow-up that leans on them, and the
paragraph that answers it (its document title and a string only that paragraph holds).
The index holds the sample corpus, the SQuAD dev articles the conversations use and
five more as distractors, about 600 paragraphs (built once under ``--index-dir`` with the
default settings: both encoders, second stage); all 48 articles would be a fairer
haystack but take most of an hour to embed on 2 shared cores. The follow-up is searched
alone, then as :func:`retriever.conversation.followup_query` builds it; a hit counts
when a top-3 passage of the right document contains the string. ``missed_alone`` is the
figure the set is for: the follow-ups that miss their paragraph when searched alone
(``alone`` there is 0 by definition), and how many of them context rescues.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, ROOT, emit_json
from followups_data import FOLLOWUPS, earlier_turns, load_conversations

TOP_K = 3
DEFAULT_INDEX = ROOT / ".cache" / "followups" / "index"
DISTRACTORS = ("Normans", "Warsaw", "Steam engine", "Oxygen", "Amazon rainforest")


def write_articles(titles: set[str], data: Path, target: Path) -> None:
    """Each SQuAD article of ``titles`` as one text file: title line, then its paragraphs."""
    paragraphs: dict[str, list[str]] = {t: [] for t in titles}
    with open(data / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["title"] in paragraphs:
                paragraphs[row["title"]].append(row["text"])
    target.mkdir(parents=True, exist_ok=True)
    for title, texts in paragraphs.items():
        name = "".join(c if c.isalnum() else "-" for c in title.lower()) + ".txt"
        (target / name).write_text(title + "\n\n" + "\n\n".join(texts) + "\n", encoding="utf-8")


def build_index(conversations: list[dict[str, Any]], data: Path, index_dir: Path) -> None:
    """Index the sample corpus and the SQuAD articles (once)."""
    if any(index_dir.glob("gen-*")):
        return
    docs = index_dir.parent / "followup-docs"
    titles = {c["title"] for c in conversations if c["corpus"] == "squad"} | set(DISTRACTORS)
    write_articles(titles, data, docs)
    command = [
        sys.executable,
        "-c",
        "from docqa.cli import app; app()",
        "index",
        str(docs),
        "--sample",
    ]
    subprocess.run([*command, "--index-dir", str(index_dir)], check=True, cwd=ROOT)


def _hit(hits: Any, conversation: dict[str, Any]) -> bool:
    return any(
        h.citation.title == conversation["title"] and conversation["gold"] in h.text
        for h in hits[:TOP_K]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--file", type=Path, default=FOLLOWUPS)
    parser.add_argument(
        "--questions-only", action="store_true", help="Context from earlier questions only."
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the report here.")
    args = parser.parse_args()
    if not args.data.exists():
        raise SystemExit(f"error: {args.data} not found (the SQuAD dev set in ../shared/data)")

    from tqdm import tqdm

    from docqa.settings import Settings
    from docqa.wiring import load_retriever
    from retriever.conversation import followup_query

    conversations = load_conversations(args.file)
    build_index(conversations, args.data, args.index_dir)
    retriever = load_retriever(Settings(index_dir=args.index_dir))
    rows = []
    for conv in tqdm(conversations, desc="conversations", file=sys.stderr):
        turns = earlier_turns(conv, answers=not args.questions_only)
        question = conv["turns"][-1]["q"]
        query = followup_query(question, turns)
        alone = retriever.search(question, TOP_K).hits
        with_context = retriever.search(query, TOP_K).hits
        rows.append(
            {
                "id": conv["id"],
                "corpus": conv["corpus"],
                "turns": len(conv["turns"]),
                "query": query,
                "alone": _hit(alone, conv),
                "with_context": _hit(with_context, conv),
            }
        )
    report: dict[str, Any] = {"conversations": len(rows), "top_k": TOP_K}
    for part in ("all", "sample", "squad"):
        chosen = [r for r in rows if part == "all" or r["corpus"] == part]
        if chosen:
            report[part] = {
                "n": len(chosen),
                "alone": round(sum(r["alone"] for r in chosen) / len(chosen), 3),
                "with_context": round(sum(r["with_context"] for r in chosen) / len(chosen), 3),
            }
    # The conversations whose follow-up alone misses: the ones context has to rescue.
    rescued = [r for r in rows if not r["alone"]]
    if rescued:
        report["missed_alone"] = {
            "n": len(rescued),
            "alone": round(sum(r["alone"] for r in rescued) / len(rescued), 3),
            "with_context": round(sum(r["with_context"] for r in rescued) / len(rescued), 3),
        }
    report["hurt_by_context"] = [r["id"] for r in rows if r["alone"] and not r["with_context"]]
    report["missed_with_context"] = [r["id"] for r in rows if not r["with_context"]]
    report["found_alone"] = [r["id"] for r in rows if r["alone"]]
    report["questions_only"] = args.questions_only
    emit_json(report, args.json)


if __name__ == "__main__":
    main()
