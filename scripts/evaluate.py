"""Evaluate docqa retrieval on a BEIR-layout folder.

    python scripts/evaluate.py DATA_DIR [--limit N] [--subset all|tune|held-out]
        [--mode hybrid] [--compare dense,lexical,fused,hybrid] [--json OUT.json]
        [--per-query OUT.jsonl] [--plot OUT.png] [--answers]

Builds (or reuses, from .cache/eval/) an index of the corpus, runs every query and
prints recall@1/5/10/20, MRR@10, nDCG@10 and all_found@10 (questions with several
relevant passages), as a table and as JSON. ``fused`` is hybrid search without the
second stage. ``--answers`` adds SQuAD exact match and F1 of the answer extracted from
the top passage, for queries that carry answers, and the half-index answer evaluation:
the subset's articles are dealt into two halves, an index of the first half alone is
asked every question of the subset (``scripts/lab/answer_runs.py``), and the report
gives the share of answerable questions answered and their EM/F1, the share of the other
half's questions wrongly answered, and the expected calibration error of ``relevance``.
Question vectors are cached on disk (``scripts/query_cache.py``), so ``ms/query`` is
ranking time with the question already encoded; latency with encoding is measured by
``scripts/bench_search.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from common import ROOT, emit_json

METRICS = ("recall@1", "recall@5", "recall@10", "recall@20", "mrr@10", "ndcg@10")
RUNS = ("dense", "lexical", "fused", "hybrid")
CURVE_DEPTH = 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="first N queries only")
    parser.add_argument("--subset", default="all", help="all, tune or held-out articles")
    parser.add_argument("--json", type=Path, default=None, help="write metrics JSON here")
    parser.add_argument("--mode", default=None, help=f"one of {RUNS} (default: setting)")
    parser.add_argument("--compare", default=None, help="comma-separated runs, one table")
    parser.add_argument("--per-query", type=Path, default=None, help="JSONL of per-query results")
    parser.add_argument("--plot", type=Path, default=None, help="PNG of recall@k per run")
    parser.add_argument(
        "--answers",
        action="store_true",
        help="EM/F1 of the top passage, and the half-index answer evaluation (below)",
    )
    parser.add_argument(
        "--reliability-plot", type=Path, default=None, help="PNG of relevance calibration"
    )
    parser.add_argument("--runs", type=Path, default=None, help="JSONL of the half-index runs")
    parser.add_argument(
        "--half-index-only",
        action="store_true",
        help="only the half-index answer evaluation (no full-index retrieval runs)",
    )
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "eval")
    return parser.parse_args(argv)


def cache_key(data_dir: Path, model: str) -> str:
    stat = (data_dir / "corpus.jsonl").stat()
    raw = f"{data_dir.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{model}"
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


#: Encoders whose vectors are cached under the bare model name (caches made before the
#: faster runtimes existed); any other runtime gets its own cache entries, as its vectors
#: are close to, not identical with, the reference ones.
REFERENCE_RUNTIMES = frozenset({"SentenceTransformerEncoder", "E5Encoder"})


def encoder_label(encoder: Any) -> str:
    """Model name, plus the runtime and question graph when it is not the reference one.

    Graph file names carry the int8 recipe (``index.encoders.bert_onnx.int8_graph_name``),
    so indexes and question vectors made with another recipe are not reused.
    """
    runtime = type(encoder).__name__
    if runtime in REFERENCE_RUNTIMES:
        return str(encoder.name)
    graph = getattr(encoder, "question_graph", None)
    return f"{encoder.name}@{runtime}" + (f"#{graph}" if graph else "")


def eval_index_dir(
    cache_dir: Path,
    data_dir: Path,
    name: str,
    encoders: Any,
    sentence_vectors: bool,
    sentence_pooling: bool = False,
) -> Path:
    """Where the evaluation index of ``data_dir`` for these encoders is cached."""
    names = "+".join(encoder_label(e) for e in encoders)
    if not sentence_vectors:
        names += "|no-sentences"
    elif sentence_pooling:
        names += "|pooled-sentences"
    return cache_dir / f"{name}-{cache_key(data_dir, names)}"


def query_vectors(retriever: Any, texts: list[str], cache_dir: Path) -> dict[str, Any]:
    """Every encoder's vectors of ``texts``, through the on-disk cache of ``query_cache``."""
    from query_cache import cached_vectors
    from rich.console import Console

    console = Console(stderr=True)

    def report(done: int, total: int) -> None:
        console.print(f"  encoded {done}/{total} questions", end="\r")

    return {
        e.name: cached_vectors(encoder_label(e), e.encode_queries, texts, cache_dir, report)
        for e in retriever.encoders
    }


def build_index(
    dataset: Any,
    index_dir: Path,
    encoders: list[Any],
    batch_size: int,
    sentence_vectors: bool,
    sentence_pooling: bool = False,
) -> float:
    """Index the corpus into ``index_dir``; returns the seconds it took."""
    from rich.console import Console

    from index.lifecycle.writer import IndexWriter
    from index.models import DocumentInput

    console = Console(stderr=True)
    console.print(f"indexing {len(dataset.corpus)} passages into {index_dir}")
    started = time.perf_counter()
    with IndexWriter(
        index_dir,
        encoders,
        rebuild=True,
        batch_size=batch_size,
        sentence_vectors=sentence_vectors,
        sentence_pooling=sentence_pooling,
    ) as writer:
        for doc_id, (title, text) in dataset.corpus.items():
            writer.upsert(DocumentInput(doc_id, text, title, f"{dataset.name}:{doc_id}"))
        writer.commit(progress=lambda d, t: console.print(f"  embedded {d}/{t}", end="\r"))
    return time.perf_counter() - started


def answer_scores(extractor: Any, question: str, passage: str, answers: tuple[str, ...]) -> Any:
    from lab.squad_metrics import max_over_ground_truths

    found = extractor.extract(question, passage).answer
    text = found.text if found is not None else ""
    return (
        max_over_ground_truths(text, list(answers), exact=True),
        max_over_ground_truths(text, list(answers), exact=False),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import beir
    from lab.ranking import all_found_at, evaluate_run, per_query, ranked_ids, recall_curve
    from rich.console import Console
    from rich.progress import track
    from tuning_split import subset

    from docqa.settings import Settings
    from docqa.wiring import load_encoders, load_retriever
    from index.lifecycle.generation import current_generation
    from retriever.searcher import Retriever
    from retriever.types import Mode

    console = Console(stderr=True)
    settings = Settings()
    full = beir.load(args.data_dir)
    dataset = subset(full, args.subset)
    if args.limit is not None:
        kept = dataset.queries[: args.limit]
        ids = {q.query_id for q in kept}
        dataset = beir.Dataset(
            dataset.name, dataset.corpus, kept, {q: r for q, r in dataset.qrels.items() if q in ids}
        )
    encoders = load_encoders(settings)
    if args.half_index_only:
        found = half_index_answers(args, full, dataset, settings, encoders)
        emit_json(
            {"dataset": full.name, "subset": args.subset, "half_index_answers": found}, args.json
        )
        return 0
    pooling = settings.sentence_pooling
    index_dir = eval_index_dir(
        args.cache_dir, args.data_dir, full.name, encoders, settings.sentence_vectors, pooling
    )
    build_seconds = 0.0
    if current_generation(index_dir) is None:
        build_seconds = build_index(
            full, index_dir, encoders, settings.batch_size, settings.sentence_vectors, pooling
        )
    retriever = load_retriever(settings.model_copy(update={"index_dir": index_dir}), encoders)
    first_stage = Retriever(retriever.handle, retriever.encoders, retriever.options)
    snapshot = retriever.handle.current()
    runs = args.compare.split(",") if args.compare else [args.mode or settings.mode]
    if any(run not in RUNS for run in runs):
        raise SystemExit(f"error: runs must be among {', '.join(RUNS)}, got {runs}")
    texts = [q.text for q in dataset.queries]
    vectors = query_vectors(retriever, texts, args.cache_dir) if runs != ["lexical"] else {}
    extractor = None
    if args.answers:
        from docqa.wiring import load_answer_extractor

        extractor = load_answer_extractor(settings.model_copy(update={"preload_readers": True}))
    results: dict[str, dict[str, float | None]] = {}
    curves: dict[str, list[float]] = {}
    rows: list[dict[str, object]] = []
    for run in runs:
        mode = Mode.HYBRID if run == "fused" else Mode(run)
        searcher = first_stage if run == "fused" else retriever
        ranked_runs: dict[str, dict[str, float]] = {}
        em = f1 = 0.0
        answered = 0
        started = time.perf_counter()
        for i, query in enumerate(track(dataset.queries, description=run, console=console)):
            vector = {n: v[i : i + 1] for n, v in vectors.items()}
            ranked = searcher.rescored(snapshot, query.text, CURVE_DEPTH, mode, vector).ranked
            passages = snapshot.store.passages_by_vector_id([v for v, _ in ranked])
            scores: dict[str, float] = {}
            for position, (vector_id, _score) in enumerate(ranked):
                doc = passages[vector_id].document_id
                scores.setdefault(doc, float(len(ranked) - position))  # best rank per document
            ranked_runs[query.query_id] = scores
            row: dict[str, object] = {"run": run, "mode": mode.value, "query_id": query.query_id}
            row["query"] = query.text
            if extractor is not None and query.answers and ranked:
                q_em, q_f1 = answer_scores(
                    extractor, query.text, passages[ranked[0][0]].text, query.answers
                )
                em, f1, answered = em + q_em, f1 + q_f1, answered + 1
                row.update({"em": q_em, "f1": q_f1})
            if args.per_query:
                rows.append({**row, "top10": ranked_ids(scores)[:10]})
        elapsed = time.perf_counter() - started
        if args.per_query:
            found = per_query(ranked_runs, dataset.qrels)
            for row in rows:
                if row["run"] == run:
                    row.update(found.get(str(row["query_id"]), {}))
        metrics: dict[str, float | None] = dict(evaluate_run(ranked_runs, dataset.qrels))
        several = [q for q, rel in dataset.qrels.items() if sum(r > 0 for r in rel.values()) > 1]
        metrics["all_found@10"] = all_found_at(ranked_runs, dataset.qrels, 10)
        metrics["n_several_relevant"] = len(several)
        metrics["em"] = 100 * em / answered if answered else None
        metrics["f1"] = 100 * f1 / answered if answered else None
        metrics["ms_per_query"] = 1000 * elapsed / max(1, len(dataset.queries))
        results[run] = metrics
        curves[run] = recall_curve(ranked_runs, dataset.qrels, CURVE_DEPTH)
    print_table(dataset, snapshot.manifest.count, results)
    payload: dict[str, object] = {
        "dataset": dataset.name,
        "subset": args.subset,
        "profile": settings.profile.value,
        "encoders": [encoder_label(e) for e in encoders],
        "sentence_vectors": settings.sentence_vectors,
        "sentence_pooling": settings.sentence_pooling,
        "rerank": settings.rerank,
        "passages": snapshot.manifest.count,
        "index_build_seconds": round(build_seconds, 1),
        "recall_curve": curves,
        **({"modes": results} if len(results) > 1 else next(iter(results.values()))),
    }
    if len(results) == 1:
        payload["mode"] = runs[0]
    if args.answers:
        payload["half_index_answers"] = half_index_answers(args, full, dataset, settings, encoders)
    if args.per_query:
        args.per_query.parent.mkdir(parents=True, exist_ok=True)
        with open(args.per_query, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.plot:
        from eval_plot import plot_recall

        plot_recall(curves, args.plot, f"{dataset.name} ({args.subset}, {len(texts)} questions)")
    emit_json(payload, args.json)
    return 0


def half_index_answers(
    args: argparse.Namespace, full: Any, dataset: Any, settings: Any, encoders: Any
) -> dict[str, Any]:
    """Index half of the subset's articles, ask all their questions, score the answers."""
    from lab.answer_report import load_runs, report, save_runs
    from lab.answer_runs import run_half
    from rich.progress import track

    from docqa.wiring import found_rule, load_answer_extractor

    article = {doc_id: title for doc_id, (title, _text) in full.corpus.items()}
    titles = sorted(
        {article[d] for q in dataset.queries for d in dataset.qrels.get(q.query_id, {})}
    )
    if args.runs is not None and args.runs.exists():
        runs = load_runs(args.runs)
    else:
        extractor = load_answer_extractor(settings)
        runs = run_half(
            full,
            titles,
            0,
            args.cache_dir,
            settings,
            encoders,
            extractor,
            top_k=5,
            limit=args.limit,
            progress=lambda q: track(q, description="half-index answers"),
        )
        if args.runs is not None:
            save_runs(runs, args.runs)
    from retriever.relevance import load_relevance

    fit = load_relevance()
    found = report(runs, fit.search, fit.answer, found_rule(settings).min_relevance)
    found["articles"] = len(titles)
    if args.reliability_plot is not None:
        from eval_plot import plot_reliability

        plot_reliability(
            {
                "search relevance": found["search_relevance_calibration"],
                "answer relevance": found["answer_relevance_calibration"],
            },
            args.reliability_plot,
            f"{full.name} {args.subset}: half-index, {len(runs)} questions",
        )
    return found


def print_table(dataset: Any, passages: int, results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    optional = ("all_found@10", "em", "f1")
    extra = [m for m in optional if any(r[m] is not None for r in results.values())]
    table = Table(title=f"{dataset.name}: {len(dataset.queries)} queries, {passages} passages")
    table.add_column("run")
    for name in (*METRICS, *extra, "ms/query"):
        # Short headers keep the table whole in an 80-column terminal; JSON has full names.
        table.add_column(name.replace("recall", "r").replace("all_found", "all"), justify="right")
    for run, metrics in results.items():
        cells = [f"{metrics[m]:.3f}" for m in METRICS]
        cells += ["-" if metrics[m] is None else f"{metrics[m]:.3g}" for m in extra]
        table.add_row(run, *cells, f"{metrics['ms_per_query']:.1f}")
    console = Console()
    # Piped into a file rich assumes 80 columns and would cut the figures.
    (console if console.is_terminal else Console(width=140)).print(table)


if __name__ == "__main__":
    raise SystemExit(main())
