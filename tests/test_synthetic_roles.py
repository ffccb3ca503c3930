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


def test_a_named_list_is_answered_with_its_items_not_its_name() -> None:
    listed = [
        q
        for q in role_questions(1500, seed=13)
        if q.question.startswith(("What are the", "Which areas make up"))
    ]
    assert len(listed) > 50
    for q in listed:
        (answer,) = q.answers
        assert " and " in answer and "”" not in answer
        # The list follows its own name, not the other list's.
        name_end = q.context.rindex("”", 0, q.answer_starts[0])
        name = q.context[q.context.rindex("“", 0, name_end) + 1 : name_end]
        assert name in q.question


def test_a_second_title_can_stand_right_before_the_next_name() -> None:
    """ "A, Deputy Secretary of X and Governor, B, ...": the title next to B is A's."""
    questions = role_questions(1500, seed=17)
    split = [q for q in questions if " of " in q.answers[0] and " and " in q.answers[0]]
    assert split and all(q.question.startswith("What") for q in split)
    assert any("Committee Member" in q.context for q in questions)
    # Ranks are held by several people: nobody is asked who holds one.
    assert not any("Member" in q.question for q in questions if q.question.startswith("Who"))
