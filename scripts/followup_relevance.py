"""Follow-ups and changes of topic: is relevance judged on the right question?

Usage: python scripts/followup_relevance.py [--index-dir DIR] [--json PATH]

Over the index of ``scripts/eval_followups.py`` (built there, under the same default
``--index-dir``), every conversation of ``scripts/data/followups.jsonl`` is asked as
``/v1/ask`` asks it: searched with its context terms, then read. A change of topic is a
conversation's earlier turns followed by a question of ``tests/golden/sample_offtopic.jsonl``
(the 12 the sample corpus does not answer, each after 3 different conversations; the
first, "Who signed the agreement?", is left out since the sample corpus answers it).

Each is judged twice: relevance read for the search query (the context terms included)
and for the question as asked (what :meth:`Retriever.search` does with ``asked``). The
report counts answers given (``found``) and, for follow-ups, answers that match the
gold string (token F1 >= 0.5, or one contains the other).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import ROOT, emit_json
from eval_followups import DEFAULT_INDEX
from followups_data import earlier_turns, load_conversations

OFF_TOPIC = ROOT / "tests" / "golden" / "sample_offtopic.jsonl"
REPEATS = 3  # each off-topic question after this many conversations


@dataclass(frozen=True)
class Case:
    earlier: list[Any]
    question: str
    gold: str | None  # None: a change of topic, nothing to find


def _cases(conversations: list[dict[str, Any]]) -> list[Case]:
    cases = [Case(earlier_turns(r), r["turns"][-1]["q"], r["gold"]) for r in conversations]
    lines = OFF_TOPIC.read_text(encoding="utf-8").splitlines()[1:]
    switches = [json.loads(line)["question"] for line in lines]
    for i, question in enumerate(switches * REPEATS):
        row = conversations[(i * 7) % len(conversations)]
        cases.append(Case(earlier_turns(row), question, None))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--json", type=Path, default=None, help="Also write the report here.")
    args = parser.parse_args()

    from docqa.settings import Settings
    from docqa.wiring import found_rule, load_answer_extractor, load_retriever
    from retriever.answer.metrics import max_over_ground_truths
    from retriever.answer.retrieve_read import read_now
    from retriever.conversation import followup_query

    settings = Settings(index_dir=args.index_dir)
    retriever = load_retriever(settings)
    extractor = load_answer_extractor(settings)
    rule = found_rule(settings)
    tally: dict[str, dict[str, int]] = {}
    for case in _cases(load_conversations()):
        query = followup_query(case.question, case.earlier)
        kind = "change_of_topic" if case.gold is None else "follow_up"
        for judged, asked in (("search_query", None), ("as_asked", case.question)):
            result = retriever.search(query, 5, asked=asked)
            done = read_now(extractor, result, case.question, rule)
            said = done.answer.text if done.found and done.answer is not None else ""
            right = bool(said and case.gold) and (
                said in str(case.gold)
                or str(case.gold) in said
                or max_over_ground_truths(said, [str(case.gold)], exact=False) >= 0.5
            )
            row = tally.setdefault(f"{kind}/{judged}", {"n": 0, "found": 0, "right": 0})
            row["n"] += 1
            row["found"] += int(done.found)
            row["right"] += int(right)
    emit_json(tally, args.json)


if __name__ == "__main__":
    main()
