"""Real PDFs: docqa's passages against a fixed 1,000-char-chunk baseline, in one run.

Questions (``scripts/data/real_pdfs_qa.jsonl``) name a PDF of the Debian packages that
``fetch_real_pdfs.py`` unpacks, a short gold text and the page it is printed on. A hit
is a gold hit when its text holds the gold text (case, whitespace and line-end
hyphenation aside). Reported for docqa (its real pipeline and settings) and for the
baseline (pypdfium2 page text cut into 1,000-char chunks with 200 overlap, BM25 and
MiniLM fused by RRF): gold@1, gold@3, the gold hit's page, and passage statistics.

Usage: ``python scripts/eval_real_pdfs.py [--cache DIR] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ROOT, emit_json
from fetch_real_pdfs import default_cache

QUESTIONS = ROOT / "scripts" / "data" / "real_pdfs_qa.jsonl"
CHUNK, OVERLAP, RRF_K, DEPTH = 1000, 200, 60, 3


@dataclass(frozen=True)
class Ranked:
    """One system's top hits for a question: (text, first page, last page)."""

    hits: list[tuple[str, int | None, int | None]]


def normalise(text: str) -> str:
    from index.formats.dehyphenate import search_text

    text = text.replace("\ufffe\r\n", "").replace("\ufffe", "-").replace("\r\n", "\n")
    return re.sub(r"\s+", " ", search_text(text)).strip().lower()


def find_pdfs(cache: Path) -> dict[str, Path]:
    return {p.name: p for p in cache.rglob("*.pdf") if p.is_file() and not p.is_symlink()}


def load_questions(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def docqa_run(
    files: list[Path], questions: list[dict[str, Any]], index_dir: Path
) -> dict[str, Any]:
    from docqa.settings import Settings
    from docqa.wiring import load_encoders, load_retriever
    from index.lifecycle.ingest import Discovery, stage_paths
    from index.lifecycle.writer import IndexWriter

    settings = Settings().model_copy(update={"index_dir": index_dir})
    embedders = load_encoders(settings)
    with IndexWriter(
        index_dir, embedders, rebuild=True, sentence_vectors=settings.sentence_vectors
    ) as writer:
        errors = stage_paths(writer, Discovery(tuple(files), (), ()))
        writer.commit()
    if errors:
        raise SystemExit(f"indexing failed: {errors}")
    retriever = load_retriever(settings, embedders)
    store = retriever.handle.current().store
    texts = [p.text for p in store.iter_passages()]
    lengths = [len(t) for t in texts]
    runs: dict[str, Ranked] = {}
    for q in questions:
        hits = retriever.search(q["question"], DEPTH).hits
        runs[q["id"]] = Ranked(
            [
                (h.text, h.citation.page, max(h.citation.pages or (h.citation.page or 0,)))
                for h in hits
            ]
        )
    return {
        "runs": runs,
        "lengths": lengths,
        "texts": texts,
        "encoders": [e.name for e in embedders],
    }


def baseline_run(files: list[Path], questions: list[dict[str, Any]]) -> dict[str, Any]:
    import bm25s
    import numpy as np
    import pypdfium2 as pdfium

    from docqa.settings import Settings
    from docqa.wiring import load_encoders
    from index.stores.lexical import tokenize

    chunks: list[tuple[str, int, int]] = []
    for path in files:
        document = pdfium.PdfDocument(path)
        text, starts = "", []
        for number in range(len(document)):
            page = document[number]
            textpage = page.get_textpage()
            starts.append(len(text))
            text += textpage.get_text_range() + "\n"
            textpage.close()
            page.close()
        document.close()

        def page_of(offset: int, starts: list[int] = starts) -> int:
            return max(i for i, s in enumerate(starts) if s <= offset) + 1

        for start in range(0, max(len(text) - OVERLAP, 1), CHUNK - OVERLAP):
            piece = text[start : start + CHUNK]
            chunks.append((piece, page_of(start), page_of(start + len(piece) - 1)))
    encoder = load_encoders(Settings())[0]  # MiniLM
    vectors = encoder.encode_passages([c[0] for c in chunks])
    model = bm25s.BM25()
    model.index([tokenize(c[0]) for c in chunks], show_progress=False)
    runs: dict[str, Ranked] = {}
    for q in questions:
        dense = np.argsort(-(vectors @ encoder.encode_queries([q["question"]])[0]))[:100]
        ids, _ = model.retrieve(
            [tokenize(q["question"])], k=min(100, len(chunks)), show_progress=False
        )
        fused: dict[int, float] = {}
        for ranking in (list(dense), list(ids[0])):
            for rank, idx in enumerate(ranking, start=1):
                fused[int(idx)] = fused.get(int(idx), 0.0) + 1.0 / (RRF_K + rank)
        top = sorted(fused, key=lambda i: -fused[i])[:DEPTH]
        runs[q["id"]] = Ranked([chunks[i] for i in top])
    return {"runs": runs, "lengths": [len(c[0]) for c in chunks], "encoders": [encoder.name]}


def score(runs: dict[str, Ranked], questions: list[dict[str, Any]]) -> dict[str, Any]:
    at1 = at3 = page_ok = page_start = 0
    misses: list[str] = []
    for q in questions:
        gold = normalise(q["gold"])
        hits = runs[q["id"]].hits
        ranks = [i for i, (text, _, _) in enumerate(hits) if gold in normalise(text)]
        at1 += bool(ranks) and ranks[0] == 0
        at3 += bool(ranks)
        if not ranks:
            misses.append(q["id"])
            continue
        _, first, last = hits[ranks[0]]
        page_ok += first is not None and first <= q["page"] <= (last or first)
        page_start += first == q["page"]
    n = len(questions)
    found = max(at3, 1)
    return {
        "gold@1": round(100 * at1 / n, 1),
        "gold@3": round(100 * at3 / n, 1),
        "page_correct_of_gold_hits": round(100 * page_ok / found, 1),
        "start_page_correct_of_gold_hits": round(100 * page_start / found, 1),
        "missed_at_3": misses,
    }


def recurring_edge_lines(files: list[Path]) -> set[str]:
    """First/last lines of pages (pypdfium2's raw text) that recur on 3+ pages: running
    headers and footers, found independently of docqa's own detector."""
    import pypdfium2 as pdfium

    recurring: set[str] = set()
    for path in files:
        counts: dict[str, int] = {}  # per file: title pages of sibling manuals differ
        document = pdfium.PdfDocument(path)
        for number in range(len(document)):
            textpage = document[number].get_textpage()
            lines = [x for x in textpage.get_text_range().split("\r\n") if x.strip()]
            textpage.close()
            for key in {_edge_key(x) for x in lines[:1] + lines[-1:]}:
                counts[key] = counts.get(key, 0) + 1
        document.close()
        recurring |= {key for key, n in counts.items() if n >= 3 and len(key) >= 3}
    return recurring


def _edge_key(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line.replace("\ufffe", "-"))).strip().lower()


def passage_checks(texts: list[str], edges: set[str]) -> dict[str, Any]:
    """Passages holding a running header/footer line, and lone-term passages."""
    header = [t for t in texts if any(_edge_key(line) in edges for line in t.split("\n"))]
    lone = [t for t in texts if len(t.split()) <= 3 or ("\n" not in t and len(t) < 40)]
    return {
        "with_running_header_or_footer": len(header),
        "lone_term": len(lone),
        "examples": (header + lone)[:5],
    }


def lengths_summary(lengths: list[int]) -> dict[str, Any]:
    ordered = sorted(lengths)
    return {
        "passages": len(ordered),
        "median_chars": statistics.median(ordered),
        "p10": ordered[len(ordered) // 10],
        "p90": ordered[9 * len(ordered) // 10],
        "under_150": sum(1 for n in ordered if n < 150),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--passages-only",
        action="store_true",
        help="only docqa's passage checks (lengths, headers, lone terms): no models",
    )
    args = parser.parse_args(argv)
    pdfs = find_pdfs(args.cache)
    questions = load_questions(args.questions)
    names = sorted({q["file"] for q in questions})
    missing = [n for n in names if n not in pdfs]
    if missing:
        print(
            f"error: {missing} not under {args.cache}; run scripts/fetch_real_pdfs.py",
            file=sys.stderr,
        )
        return 2
    files = [pdfs[n] for n in names]
    edges = recurring_edge_lines(files)
    if args.passages_only:
        from index.formats.pdf import extract_pdf

        texts = []
        for path in files:
            extracted = extract_pdf(path)
            texts += [extracted.text[a:b] for a, b in extracted.passages]
        checks = passage_checks(texts, edges)
        emit_json({**lengths_summary([len(t) for t in texts]), **checks}, args.json)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        ours = docqa_run(files, questions, Path(tmp) / "index")
    base = baseline_run(files, questions)
    report = {
        "questions": len(questions),
        "files": names,
        "docqa": {
            **score(ours["runs"], questions),
            **lengths_summary(ours["lengths"]),
            **passage_checks(ours["texts"], edges),
            "encoders": ours["encoders"],
        },
        "baseline_1000_200": {
            **score(base["runs"], questions),
            **lengths_summary(base["lengths"]),
            "encoders": base["encoders"],
        },
    }
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
