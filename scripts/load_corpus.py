"""Write a folder of text files with N passages from a BEIR corpus, for load tests.

SQuAD v1.1 dev has 2,067 paragraphs; to reach 10,000 passages each paragraph is kept
and then re-sliced into windows of two consecutive sentences (stride one), taken in
corpus order until the target is met. Files are one per title, passages separated by
blank lines (one passage per paragraph in the index), so `docqa index FOLDER` builds it.

    .venv/bin/python scripts/load_corpus.py ../shared/data/squad-v1.1-dev .cache/load-corpus
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def _paragraphs(corpus: Path) -> list[tuple[str, str]]:
    rows = []
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            text = " ".join(str(row["text"]).split())  # one line: no blank line inside
            rows.append((str(row.get("title") or "untitled"), text))
    return rows


def _windows(text: str) -> Iterator[str]:
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    for start in range(len(sentences) - 1):
        yield f"{sentences[start]} {sentences[start + 1]}"


def passages(corpus: Path, target: int) -> dict[str, list[str]]:
    """Up to ``target`` distinct passages grouped by title: paragraphs first, then windows.

    A text already in its title's file is skipped: the index stores a repeated paragraph
    of a document once, so duplicates would not count.
    """
    rows = _paragraphs(corpus)
    by_title: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    candidates = [*rows, *((title, w) for title, text in rows for w in _windows(text))]
    for title, text in candidates:
        if len(seen) >= target:
            break
        if (title, text) not in seen:
            seen.add((title, text))
            by_title.setdefault(title, []).append(text)
    return by_title


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="BEIR folder with corpus.jsonl")
    parser.add_argument("out", type=Path, help="folder to write (replaced)")
    parser.add_argument("--passages", type=int, default=10_000, help="how many passages")
    args = parser.parse_args()
    grouped = passages(args.dataset / "corpus.jsonl", args.passages)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    for title, texts in grouped.items():
        name = _SLUG.sub("-", title).strip("-").lower() or "untitled"
        (args.out / f"{name}.txt").write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    total = sum(len(t) for t in grouped.values())
    print(f"{total} passages in {len(grouped)} files under {args.out}")


if __name__ == "__main__":
    main()
