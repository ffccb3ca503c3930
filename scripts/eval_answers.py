"""Evaluate the answer extractor on SQuAD v1.1 dev with GOLD paragraphs (held-out articles).

Usage::

    python scripts/eval_answers.py /work/shared/data/squad-v1.1-dev [--limit N] [--json OUT]

Only the held-out articles of ``scripts/lab/squad_data.split_titles`` are scored: the
span model was trained on the others.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; prints a table and optionally writes JSON."""
    parser = argparse.ArgumentParser(description="EM/F1 of the answer extractor (gold paragraphs)")
    parser.add_argument("data_dir", type=Path, help="SQuAD dir holding raw/dev-v1.1.json.gz")
    parser.add_argument("--limit", type=int, default=None, help="score the first N questions")
    parser.add_argument(
        "--stride", type=int, default=1, help="score every K-th question (quick, all articles)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write metrics as JSON here")
    parser.add_argument("--threads", type=int, default=1, help="the reader's CPU threads")
    parser.add_argument(
        "--runtime",
        choices=("onnx", "torch"),
        default="onnx",
        help="onnx: the shipped reader (load_default_extractor); torch: the PyTorch model "
        "its graph is exported from, for comparison",
    )
    parser.add_argument(
        "--weights", type=Path, default=None, help="span weights dir (default: the shipped ones)"
    )
    args = parser.parse_args(argv)

    # Run from a checkout without installing: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    # Heavy imports inside the command so `--help` stays instant.
    from lab.squad_data import load_squad, questions_for, split_titles
    from lab.squad_metrics import max_over_ground_truths, normalize_answer
    from tqdm import tqdm

    from retriever.answer.extractor import SpanExtractor, load_default_extractor
    from retriever.answer.types import WEIGHTS_DIR

    questions = load_squad(args.data_dir)
    _, held_titles = split_titles([q.title for q in questions])
    held = questions_for(questions, held_titles)[:: args.stride][: args.limit]
    t_load = time.perf_counter()
    weights = args.weights or WEIGHTS_DIR
    if args.runtime == "torch":
        import torch

        from retriever.answer.span_model import SpanModel

        torch.set_num_threads(args.threads)
        extractor = SpanExtractor(SpanModel.load(weights))
    else:
        extractor = load_default_extractor(weights, threads=args.threads)
    load_s = time.perf_counter() - t_load

    em = f1 = sentence_hits = 0.0
    answered = 0
    t0 = time.perf_counter()
    for q in tqdm(held, desc="questions", file=sys.stderr):
        spans = extractor.extract(q.question, q.context)
        pred = spans.answer.text if spans.answer is not None else ""
        answered += spans.answer is not None
        em += max_over_ground_truths(pred, list(q.answers), exact=True)
        f1 += max_over_ground_truths(pred, list(q.answers), exact=False)
        if spans.sentence is not None:
            sent = normalize_answer(spans.sentence.text)
            sentence_hits += any(normalize_answer(a) in sent for a in q.answers)
    elapsed = time.perf_counter() - t0
    n = max(len(held), 1)
    result = {
        "n": len(held),
        "articles": len(held_titles),
        "exact_match": round(100 * em / n, 2),
        "f1": round(100 * f1 / n, 2),
        "sentence_contains_gold": round(100 * sentence_hits / n, 2),
        "answered": answered,
        "ms_per_question": round(1000 * elapsed / n, 1),
        "model_load_s": round(load_s, 2),
        "held_out_titles": held_titles,
        "stride": args.stride,
        "runtime": args.runtime,
        "threads": args.threads,
        "setting": "gold paragraph, held-out articles only",
    }
    print(f"held-out articles: {len(held_titles)}   questions: {result['n']}")
    print(f"{'EM':>8} {'F1':>8} {'sent%':>8} {'ms/q':>8}")
    print(
        f"{result['exact_match']:>8} {result['f1']:>8} "
        f"{result['sentence_contains_gold']:>8} {result['ms_per_question']:>8}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
