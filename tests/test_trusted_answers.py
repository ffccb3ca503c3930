"""Answers people can trust, end to end with the real encoders, second stage and reader.

Question sets (``tests/golden``), written by hand, never used to fit anything: the
relevance model and its threshold are fitted on SQuAD validation articles
(``scripts/fit_relevance.py``).
- ``sample_offtopic.jsonl``: over the sample corpus, "who signed" and 12 questions the
  corpus does not answer.
- ``seed_qa.jsonl``: over the seed article, 17 answerable questions and 12 it does not
  answer (general knowledge, and questions about the bank it does not cover).
- ``seed_qa_more.jsonl``: over the seed article, 20 more answerable questions and 5 it
  does not answer, written on 2026-12-02 before the stage-4 reader was trained (it
  compared stages 3 and 4; nothing was fitted on it).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from docqa.cli import sample_corpus
from docqa.settings import Settings
from docqa.wiring import found_rule, load_answer_extractor, load_encoders, load_retriever
from index.encoders.e5.engine import E5Encoder
from index.lifecycle.ingest import discover, stage_paths
from index.lifecycle.writer import IndexWriter
from retriever.answer.chat import ChatTurn
from retriever.answer.found import FoundRule
from retriever.answer.metrics import max_over_ground_truths
from retriever.answer.retrieve_read import Answered, read_now
from retriever.answer.types import AnswerExtractor
from retriever.conversation import followup_query
from retriever.searcher import Retriever
from scripts.followups_data import earlier_turns, load_conversations
from tests.shared_data import SEED, shared_file

pytestmark = pytest.mark.e2e
GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class Case:
    question: str
    answers: tuple[str, ...]


def _cases(name: str) -> list[Case]:
    lines = (GOLDEN / name).read_text(encoding="utf-8").splitlines()
    return [Case(r["question"], tuple(r["answers"])) for r in map(json.loads, lines)]


@dataclass(frozen=True)
class Asker:
    """Retrieve-then-read over one index, as ``/v1/ask`` does."""

    retriever: Retriever
    extractor: AnswerExtractor | None
    rule: FoundRule

    def ask(self, question: str, earlier: list[ChatTurn] | None = None) -> Answered:
        query = followup_query(question, earlier or [])
        result = self.retriever.search(query, 5, asked=question)
        return read_now(self.extractor, result, question, self.rule)


def _asker(docs: Path, root: Path, encoders: list[object]) -> Asker:
    with IndexWriter(root / "idx", encoders) as writer:  # type: ignore[arg-type]
        stage_paths(writer, discover([docs]))
        writer.commit()
    settings = Settings(index_dir=root / "idx")
    retriever = load_retriever(settings, list(encoders))  # type: ignore[arg-type]
    return Asker(retriever, load_answer_extractor(settings), found_rule(settings))


def _ask_all(docs: Path, root: Path, encoders: list[object], cases: list[Case]) -> list[Answered]:
    asker = _asker(docs, root, encoders)
    return [asker.ask(c.question) for c in cases]


def _right(done: Answered, case: Case) -> bool:
    if not done.found or done.answer is None:
        return False
    return max_over_ground_truths(done.answer.text, list(case.answers), exact=False) >= 0.5


@pytest.fixture(scope="module")
def encoders(e5_embedder: E5Encoder) -> list[object]:
    """The encoders the product loads (``quality``: MiniLM and e5 on ONNX Runtime, with
    pooled sentence vectors): the relevance model is fitted on their evidence."""
    return list(load_encoders(Settings()))


def test_sample_corpus_off_topic_questions_are_not_found(
    tmp_path: Path, encoders: list[object]
) -> None:
    cases = _cases("sample_offtopic.jsonl")
    shutil.copytree(sample_corpus(), tmp_path / "docs")
    answered = _ask_all(tmp_path / "docs", tmp_path, encoders, cases)
    signed, off_topic = answered[0], answered[1:]
    assert signed.found and signed.answer is not None
    assert "Elena Duarte" in signed.answer.named and "Samuel Okafor" in signed.answer.named
    wrongly = [c.question for c, a in zip(cases[1:], off_topic, strict=True) if a.found]
    assert len(wrongly) <= len(off_topic) // 10, wrongly
    # Not found still lists the closest passages, each with its relevance.
    assert all(a.hits and all(h.relevance is not None for h in a.hits) for a in off_topic)


# Regression guards at the measured level (the issue asks 13 of 17 right and 11 of 12
# refused on questions we have not seen).
@pytest.mark.parametrize(
    ("questions", "least_right", "least_refused"),
    [("seed_qa.jsonl", 13, 12), ("seed_qa_more.jsonl", 16, 5)],
)
def test_seed_article_answers_and_refusals(
    tmp_path: Path, encoders: list[object], questions: str, least_right: int, least_refused: int
) -> None:
    seed = shared_file(SEED)
    cases = _cases(questions)
    shutil.copytree(seed.parent, tmp_path / "docs")
    answered = _ask_all(tmp_path / "docs", tmp_path, encoders, cases)
    answerable = [(c, a) for c, a in zip(cases, answered, strict=True) if c.answers]
    off_topic = [(c, a) for c, a in zip(cases, answered, strict=True) if not c.answers]
    right = [c.question for c, a in answerable if _right(a, c)]
    wrong = [
        (c.question, a.answer.text if a.found and a.answer else None)
        for c, a in answerable
        if not _right(a, c)
    ]
    refused = [c.question for c, a in off_topic if not a.found]
    wrongly = [(c.question, a.answer.text if a.answer else None) for c, a in off_topic if a.found]
    assert len(refused) >= least_refused, wrongly
    assert len(right) >= least_right, wrong


def test_sample_corpus_topic_switch_is_not_found_and_follow_ups_are(
    tmp_path: Path, encoders: list[object]
) -> None:
    """In a conversation, relevance is judged for the question as asked.

    The follow-up's search query carries the previous turns' terms; judged on it, a change
    of topic ("How many moons...?" after "Who signed the agreement?") found the previous
    topic's passage relevant and answered from it.
    """
    shutil.copytree(sample_corpus(), tmp_path / "docs")
    asker = _asker(tmp_path / "docs", tmp_path, encoders)
    signed = [
        ChatTurn("user", "Who signed the agreement?"),
        ChatTurn("assistant", "Mayor Elena Duarte signed the agreement for Harbour City."),
    ]
    switches = [c.question for c in _cases("sample_offtopic.jsonl")[1:]]
    wrongly = [q for q in switches if asker.ask(q, signed).found]
    assert len(wrongly) <= len(switches) // 10, wrongly
    right, missed = 0, []
    for row in (r for r in load_conversations() if r["corpus"] == "sample"):
        done = asker.ask(row["turns"][-1]["q"], earlier_turns(row))
        said = done.answer.text if done.found and done.answer is not None else ""
        if said and (said in row["gold"] or _right(done, Case("", (row["gold"],)))):
            right += 1
        else:
            missed.append(row["id"])
    # Regression guard at the measured level: 6 of the 13 sample follow-ups answered right
    # in this 15-passage index, where a follow-up's ordinary words ("pay", "hire") are
    # often in no passage, which relevance reads as a sign of another topic (with the
    # SQuAD distractors of scripts/followup_relevance.py beside it: 8 of 13, and 72 of 128
    # follow-ups overall).
    assert right >= 6, missed
