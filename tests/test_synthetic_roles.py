"""The synthetic role questions mixed into reader training (``scripts/lab/synthetic_roles``)."""

from __future__ import annotations

from collections import defaultdict

from scripts.lab.synthetic_roles import role_questions


def test_every_answer_offset_slices_its_answer() -> None:
    questions = role_questions(600, seed=5)
    assert len(questions) == 600
    for q in questions:
        assert q.answers and len(q.answers) == len(q.answer_starts)
        for answer, start in zip(q.answers, q.answer_starts, strict=True):
            assert q.context[start : start + len(answer)] == answer, q.question


def test_the_same_seed_writes_the_same_questions_and_another_seed_others() -> None:
    assert role_questions(50, seed=7) == role_questions(50, seed=7)
    assert role_questions(50, seed=7) != role_questions(50, seed=8)


def test_no_question_has_two_different_answers_in_one_passage() -> None:
    answers: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for q in role_questions(1500, seed=3):
        answers[q.context, q.question].add(q.answers)
    assert all(len(found) == 1 for found in answers.values())


def test_signers_are_people_and_the_near_miss_titles_stand_together() -> None:
    questions = role_questions(1500, seed=11)
    signed = [q for q in questions if q.question.startswith("Who signed the")]
    assert signed and all(len(q.answers) == 2 for q in signed)
    # The organisation that signs is in the passage and is never the answer.
    assert all(all(" signed a " not in a for a in q.answers) for q in signed)
    near = [q for q in questions if "Vice " in q.question or "vice " in q.question]
    assert len(near) > 50
