"""Passage figures of docqa's PDF reader on real PDFs: extraction only, no models.

Per file: pages, passages, median/p10/p90 passage length, passages under 150 chars,
passages holding a running header/footer (the first/last line of pypdfium2's page text
recurring there on 3+ pages of the file, found independently of docqa's detector), glued words
(letter runs of 26+ letters) and letter-by-letter splits (runs of 4+ one-letter tokens)
per 10,000 words in docqa's passages and in pypdfium2's plain page text, the share of
pypdfium2's words that docqa's text lacks (words lost or mangled), and sample short
passages.

Usage::

    python -m scripts.lab.pdf_passages_report [DIR_OR_PDF ...] [--json out.json] [--samples 3]

Defaults to ``~/.cache/docqa/more-pdfs``. PDFs stay out of the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CACHE = Path.home() / ".cache" / "docqa" / "more-pdfs"
_GLUED = re.compile(r"[^\W\d_]{26,}")
_WORD = re.compile(r"[^\W\d_]+")
_SPLIT = re.compile(r"(?:\b[^\W\d_]\s){3,}[^\W\d_]\b")
_HYPHEN_BREAK = re.compile(r"(\w)[-\ufffe\u00ad]\s*\n\s*(\w)")


def _edge_key(line: str) -> str:
    line = line.replace("\ufffe", "-")
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line)).strip().lower()


def plain_pages(path: Path) -> list[str]:
    """pypdfium2's own page text (``get_text_range``), one string per page."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        pages = []
        for number in range(len(document)):
            page = document[number]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def recurring_edges(pages: list[str]) -> set[str]:
    """First/last non-blank lines (3+ characters) recurring there on 3+ pages, and there
    on at least half the pages that hold them at all: a running header, not a line such
    as "Example:" that a page break happens to leave at a page's edge."""
    edge: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for text in pages:
        lines = [x for x in text.split("\n") if x.strip()]
        edge.update({_edge_key(x) for x in lines[:1] + lines[-1:]})
        anywhere.update({_edge_key(x) for x in lines})
    return {key for key, n in edge.items() if n >= 3 and len(key) >= 3 and n >= 0.5 * anywhere[key]}


def broken_blocks(text: str) -> list[str]:
    """Block boundaries inside a sentence: a block that ends in a lowercase letter, a
    comma or a hyphen, followed by one that starts in lowercase (a paragraph cut apart)."""
    blocks = text.split("\n\n")
    return [
        f"{a[-60:]} || {b[:60]}"
        for a, b in zip(blocks, blocks[1:], strict=False)
        if a and b and re.search(r"[a-z,\-]$", a) and re.match(r"[a-z]", b)
    ]


def _unbreak(text: str) -> str:
    """Words broken at a line end joined again (pdfium marks its own breaks U+FFFE)."""
    return _HYPHEN_BREAK.sub(r"\1\2", text.replace("\ufffe", ""))


def word_figures(text: str) -> dict[str, float]:
    """Glued words and letter-by-letter splits per 10,000 words of ``text``."""
    text = _unbreak(text)
    words = _WORD.findall(text)
    per = 10_000 / max(len(words), 1)
    return {
        "words": len(words),
        "glued_per_10k": round(len(_GLUED.findall(text)) * per, 1),
        "split_runs_per_10k": round(len(_SPLIT.findall(text)) * per, 1),
    }


def _vocabularies(plain: str, ours: str) -> tuple[set[str], set[str]]:
    vocab = {w.lower() for w in _WORD.findall(_unbreak(plain)) if len(w) > 3}
    return vocab, {w.lower() for w in _WORD.findall(_unbreak(ours))}


def lost_words(plain: str, ours: str) -> float:
    """Share (%) of pypdfium2's distinct lowercase words of 4+ letters absent from ours."""
    vocab, have = _vocabularies(plain, ours)
    return round(100 * len(vocab - have) / max(len(vocab), 1), 2)


def missing_words(plain: str, ours: str) -> list[str]:
    """pypdfium2's words of 4+ letters that ours lacks."""
    vocab, have = _vocabularies(plain, ours)
    return sorted(vocab - have)


def file_report(path: Path, samples: int) -> dict[str, Any]:
    from index.formats.pdf import extract_pdf

    extracted = extract_pdf(path)
    texts = [extracted.text[a:b] for a, b in extracted.passages]
    plain = plain_pages(path)
    edges = recurring_edges(plain)
    lengths = sorted(len(t) for t in texts) or [0]
    with_edges = [t for t in texts if any(_edge_key(x) in edges for x in t.split("\n"))]
    short = [t for t in texts if len(t) < 150]
    joined = "\n\n".join(texts)
    plain_joined = "\n".join(plain)
    broken = broken_blocks(extracted.text)
    return {
        "file": path.name,
        "pages": len(plain),
        "passages": len(texts),
        "median_chars": statistics.median(lengths),
        "p10": lengths[len(lengths) // 10],
        "p90": lengths[9 * len(lengths) // 10],
        "under_150": len(short),
        "with_running_edge": len(with_edges),
        "blocks": extracted.text.count("\n\n") + 1,
        "broken_blocks": len(broken),
        "ours": word_figures(joined),
        "pdfium": word_figures(plain_joined),
        "pdfium_words_missing_pct": lost_words(plain_joined, extracted.text),
        "broken_samples": broken[: 4 * samples],
        "short_samples": [t[:160] for t in short[:samples]],
        "edge_samples": [t[:160] for t in with_edges[:samples]],
        "glued_samples": sorted(set(_GLUED.findall(joined)))[:samples],
        "missing_samples": missing_words(plain_joined, extracted.text)[: 4 * samples],
    }


def find_pdfs(targets: list[Path]) -> list[Path]:
    found: list[Path] = []
    for target in targets:
        if target.is_dir():
            found += sorted(p for p in target.rglob("*.pdf") if p.is_file() and not p.is_symlink())
        elif target.is_file():
            found.append(target)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", type=Path, default=[DEFAULT_CACHE])
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args(argv)
    pdfs = find_pdfs(args.targets)
    if not pdfs:
        print(f"error: no PDFs under {args.targets}", file=sys.stderr)
        return 2
    reports = []
    header = (
        "file                         pages passages median p10  p90  <150 edge broken "
        "glued/10k(ours,pdfium) split/10k missing%"
    )
    print(header)
    for path in pdfs:
        r = file_report(path, args.samples)
        reports.append(r)
        print(
            f"{r['file'][:28]:28} {r['pages']:4} {r['passages']:5} {r['median_chars']:7} "
            f"{r['p10']:5} {r['p90']:5} {r['under_150']:4} {r['with_running_edge']:4} "
            f"{r['broken_blocks']:4}/{r['blocks']:<5} "
            f"{r['ours']['glued_per_10k']:6},{r['pdfium']['glued_per_10k']:<6} "
            f"{r['ours']['split_runs_per_10k']:5},{r['pdfium']['split_runs_per_10k']:<5} "
            f"{r['pdfium_words_missing_pct']:5}",
            flush=True,
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
