"""How often a single-answer question gets further answer spans (``answer.spans``).

Usage::

    python -m scripts.lab.extra_spans ../shared/data/squad-v1.1-dev --reader e5
        [--weights DIR] [--articles validation|train] [--ratios 0.3,0.1,0.05]
        [--max-spans 3] [--json OUT]

SQuAD v1.1 questions have one answer, so every question that gets a further span is a
false one (or a list the gold answer holds as one span, "A, B and C"). The reader reads
each question's gold paragraph once, with the lowest ratio; each ratio's result is then
the same predictions cut at that ratio and passed through the extractor's own rules
(``retriever.answer.extra``), which is what a reader with that ratio returns, since
:func:`~retriever.answer.spans.top_spans` keeps a prefix of its choices when the
ratio rises.

Only tuning articles are read: the validation articles by default (left out of training
by ``train_span --val-every 8``), or the training articles. Never the held-out ones.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from retriever.answer.extractor import SpanExtractor
from retriever.answer.types import (
    E5_WEIGHTS_DIR,
    ONE_SPAN,
    WEIGHTS_DIR,
    MultiSpanRule,
    SpanPrediction,
)
from scripts.lab.squad_data import (
    SquadQuestion,
    load_squad,
    questions_for,
    split_titles,
    validation_titles,
)

#: The validation split ``train_span`` uses by default (every 8th training article).
VAL_EVERY = 8
BATCH = 16


class Replay:
    """A span predictor that returns predictions made once, cut at the rule's ratio."""

    def __init__(self, predictions: list[SpanPrediction | None]) -> None:
        self._predictions = predictions

    def predict(
        self,
        questions: list[str],
        passages: list[str],
        batch_size: int = 16,
        rule: MultiSpanRule = ONE_SPAN,
    ) -> list[SpanPrediction | None]:
        out: list[SpanPrediction | None] = []
        for pred in self._predictions[: len(passages)]:
            if pred is not None:
                kept = [e for e in pred.extra if e.prob >= rule.min_ratio * pred.prob]
                pred = replace(pred, extra=tuple(kept[: rule.max_spans - 1]))
            out.append(pred)
        return out


def tuning_questions(data_dir: Path, articles: str) -> list[SquadQuestion]:
    """The questions of the validation or the training articles (never the held-out)."""
    questions = load_squad(data_dir)
    train, held = split_titles([q.title for q in questions])
    validation = validation_titles(train, VAL_EVERY)
    titles = validation if articles == "validation" else sorted(set(train) - set(validation))
    assert not set(titles) & set(held), "held-out articles must never be read here"
    return questions_for(questions, titles)


def predict_all(
    weights: Path, questions: list[SquadQuestion], rule: MultiSpanRule
) -> list[SpanPrediction | None]:
    from tqdm import tqdm

    from retriever.answer.span_model import SpanModel

    model = SpanModel.load(weights)
    predictions: list[SpanPrediction | None] = []
    for i in tqdm(range(0, len(questions), BATCH), desc="reading", unit="batch"):
        chunk = questions[i : i + BATCH]
        predictions += model.predict(
            [q.question for q in chunk], [q.context for q in chunk], BATCH, rule
        )
    return predictions


def extra_rate(
    questions: list[SquadQuestion],
    predictions: list[SpanPrediction | None],
    rule: MultiSpanRule,
) -> dict[str, object]:
    """The share of questions whose answer has further spans under ``rule``, and examples."""
    with_extra = []
    for question, pred in zip(questions, predictions, strict=True):
        extractor = SpanExtractor(Replay([pred]), rule=rule)
        found = extractor.extract(question.question, question.context)
        if found.extra and found.answer is not None:
            with_extra.append(
                {
                    "qid": question.qid,
                    "question": question.question,
                    "gold": question.answers[0],
                    "answer": found.answer.text,
                    "extra": [s.text for s in found.extra],
                }
            )
    return {
        "min_ratio": rule.min_ratio,
        "max_spans": rule.max_spans,
        "questions": len(questions),
        "with_extra_spans": len(with_extra),
        "rate": round(len(with_extra) / max(1, len(questions)), 4),
        "examples": with_extra[:10],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--reader", choices=("minilm", "e5"), default="e5")
    parser.add_argument("--weights", type=Path, default=None, help="weights dir (over --reader)")
    parser.add_argument("--articles", choices=("validation", "train"), default="validation")
    parser.add_argument("--ratios", default="0.3,0.2,0.1,0.05,0.03,0.02")
    parser.add_argument("--max-spans", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N questions (smoke runs)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    weights = args.weights or (E5_WEIGHTS_DIR if args.reader == "e5" else WEIGHTS_DIR)
    ratios = sorted({float(r) for r in args.ratios.split(",")}, reverse=True)
    questions = tuning_questions(args.data_dir, args.articles)[: args.limit]
    predictions = predict_all(weights, questions, MultiSpanRule(args.max_spans, min(ratios)))
    results = [extra_rate(questions, predictions, MultiSpanRule(args.max_spans, r)) for r in ratios]
    print(f"{weights} on {len(questions)} {args.articles} questions (max_spans {args.max_spans})")
    print("min_ratio  questions with further spans")
    for r in results:
        print(f"{r['min_ratio']:9}  {r['with_extra_spans']:5} ({r['rate']:.1%})")
    if args.json is not None:
        payload = {"weights": str(weights), "articles": args.articles, "results": results}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
