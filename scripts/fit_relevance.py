"""Fit the calibrated relevance (``retriever/relevance.json``) and the "not found" threshold.

    python scripts/fit_relevance.py ../shared/data/squad-v1.1-dev
        [--reader retriever/answer/weights_e5] [--max-wrong 0.07] [--top-k 5]
        [--runs OUT.jsonl] [--out retriever/relevance.json] [--json REPORT.json]

Calibration questions come from the reader's *validation* articles (tuning articles the
reader was not trained on; their titles are in the reader's manifest), never from the
held-out ones. Their articles are dealt into two halves; each half in turn is indexed
alone and every validation question is asked of it, so half the questions have no
answer in the index (``scripts/lab/answer_runs.py``). Two logistic models are fitted on
every hit (is it the gold paragraph?): one on retrieval evidence (``/v1/search``), one
adding the span reader's (``/v1/ask``, chat). The threshold is the lowest answer
relevance at which at most ``--max-wrong`` of the unanswerable questions get an answer.

Each half-index also holds the reader's training articles (``--distractors training``, the
default), whose questions are not asked: four validation articles alone make indexes of
70-90 paragraphs, where few passages look relevant to a question from elsewhere, and a
threshold fitted there let through 17.5 % of unanswerable questions on an index of 400
held-out paragraphs (docs/answers.md). The span reader has seen those passages in
training, which if anything makes their answers look surer: the threshold errs on the
side of "not found".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import DEFAULT_DATA, ROOT, emit_json


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument(
        "--reader",
        type=Path,
        default=ROOT / "retriever" / "answer" / "weights_e5",
        help="span reader weights dir (its manifest names the validation articles)",
    )
    parser.add_argument("--top-k", type=int, default=5, help="hits read per question")
    parser.add_argument("--max-wrong", type=float, default=0.07)
    parser.add_argument("--limit", type=int, default=None, help="questions per half (smoke)")
    parser.add_argument("--runs", type=Path, default=None, help="cache of the runs (JSONL)")
    parser.add_argument("--out", type=Path, default=ROOT / "retriever" / "relevance.json")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "eval")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--distractors",
        choices=("training", "none"),
        default="training",
        help="articles indexed beside each half: the reader's training articles, or none",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import beir
    from lab.answer_report import choose_threshold, fit_model, load_runs, report, save_runs
    from lab.answer_runs import run_half

    from retriever.relevance import (
        BIGRAMS,
        COVERAGE,
        RANK,
        READER_LOGIT,
        READER_PROB,
        SECOND_STAGE,
        UNKNOWN_TERMS,
        Relevance,
    )

    if args.runs is not None and args.runs.exists():
        runs = load_runs(args.runs)
    else:
        import torch
        from rich.progress import track

        from docqa.settings import Settings
        from docqa.wiring import load_encoders
        from retriever.answer.extractor import load_default_extractor

        torch.set_num_threads(args.threads)
        manifest = json.loads((args.reader / "manifest.json").read_text(encoding="utf-8"))
        titles = [t.replace("_", " ") for t in manifest["split"]["validation_titles"]]
        others = manifest["split"]["train_titles"] if args.distractors == "training" else []
        distractors = [t.replace("_", " ") for t in others]
        if not titles:
            raise SystemExit(f"error: {args.reader} was trained without validation articles")
        settings = Settings()
        encoders = load_encoders(settings)
        extractor = load_default_extractor(args.reader)
        dataset = beir.load(args.data_dir)
        runs = []
        for half in (0, 1):
            runs += run_half(
                dataset,
                titles,
                half,
                args.cache_dir,
                settings,
                encoders,
                extractor,
                args.top_k,
                args.limit,
                lambda q, h=half: track(q, description=f"half {h}"),
                distractors,
            )
        if args.runs is not None:
            save_runs(runs, args.runs)
    encoders_seen = sorted({k for r in runs for h in r.hits for k in h.evidence if ":" in k})
    search_features = (*encoders_seen, COVERAGE, BIGRAMS, UNKNOWN_TERMS, RANK, SECOND_STAGE)
    search = fit_model(runs, search_features)
    answer = fit_model(runs, (*search_features, READER_LOGIT, READER_PROB))
    threshold = choose_threshold(runs, answer, args.max_wrong)
    fitted = Relevance(search, answer, round(threshold, 4))
    args.out.write_text(json.dumps(fitted.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    emit_json(
        {
            "fit_on": "validation articles (in-sample)",
            **report(runs, search, answer, threshold, args.max_wrong),
        },
        args.json,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
