"""Follow-up questions: the search query a question means in its conversation.

"When was it signed?" after "Who signed the agreement?" says nothing about an
agreement. Without a generator to rewrite it, the previous turns' key terms (names,
numbers, rare content words) are appended to the question, newest turn first and fewer
of them the older the turn, so the new question keeps most of the query's weight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.stores.lexical import CJK, is_cjk, tokenize
from retriever.answer.chat import CLOSEST_HEADING, SOURCES_HEADING, ChatTurn

#: Most context terms added to a follow-up: beyond this the context outweighs the question.
MAX_CONTEXT_TERMS = 8
#: Turns looked back over (user and assistant messages count alike).
MAX_CONTEXT_TURNS = 6

_WORD = re.compile(rf"[{CJK}]+|[^\W_{CJK}][\w'’-]*", re.UNICODE)
_CITE = re.compile(r"\[\d+\]")
# Words that point back at something said before, or ask: never context themselves.
# Written out because BM25's stop list (33 words) keeps the pronouns, question words and
# modals that follow-ups are made of.
_FUNCTION = frozenset(
    """who whom whose what which when where why how did does do was were is are be been
    it its it's they them their this that these those he him his she her hers there here
    i me my we our you your the a an and or of in on at to for from by with about as
    also other another than then so not no yes any some many much more most can could
    would should will shall may might must has have had one ones""".split()
)


def _answer_part(text: str) -> str:
    """An assistant message without its "Sources:" (or "Closest passages:") list and
    ``[n]`` markers."""
    head = text.split("\n\n" + SOURCES_HEADING, 1)[0].split("\n\n" + CLOSEST_HEADING, 1)[0]
    return _CITE.sub(" ", head)


def key_terms(text: str) -> list[str]:
    """Names, numbers and content words of ``text``, in order, without repeats.

    A run of capitalised words ("Northwind Rail") stays one term, so a name is carried
    whole; lower-case words are kept when BM25 would index them (not stop words).
    """
    terms: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            terms.append(" ".join(run))
            run.clear()

    for match in _WORD.finditer(text):
        word = match.group(0)
        lower = word.lower()
        if lower in _FUNCTION:
            close_run()
            continue
        if word[0].isupper() or word[0].isdigit():
            run.append(word)
            continue
        close_run()
        if is_cjk(word) or tokenize(word):
            terms.append(word)
    close_run()
    return list(dict.fromkeys(terms))


def _exchanges(turns: Sequence[ChatTurn]) -> list[str]:
    """The turns as exchanges (a question and its answer), newest first."""
    exchanges: list[list[str]] = []
    for turn in turns:
        if turn.role == "user" or not exchanges:
            exchanges.append([])
        if turn.role in ("user", "assistant"):
            exchanges[-1].append(_answer_part(turn.text) if turn.role == "assistant" else turn.text)
    return ["\n".join(parts) for parts in reversed(exchanges)]


def followup_query(
    question: str,
    turns: Sequence[ChatTurn],
    max_terms: int = MAX_CONTEXT_TERMS,
    max_turns: int = MAX_CONTEXT_TURNS,
    max_chars: int | None = None,
) -> str:
    """``question`` followed by the key terms of the turns before it.

    The newest exchange (question and answer) may give two thirds of ``max_terms``, each
    older one two thirds of what is left: a conversation drifts, and what was asked three
    questions ago matters least. Terms the question already holds (same BM25 token) are
    not repeated, so a self-contained question is searched nearly as it stands.

    Args:
        question: The new user question.
        turns: The earlier messages, oldest first (the question itself not included).
        max_terms: Most terms added.
        max_turns: Most earlier messages looked at.
        max_chars: Longest query allowed (the retriever's limit); terms that would pass
            it are left out.

    Returns:
        The search query; ``question`` unchanged when there is nothing to add.
    """
    have = set(tokenize(question))
    added: list[str] = []
    for text in _exchanges(list(turns)[-max_turns:]):
        left = max_terms - len(added)
        share = max(1, -(-2 * left // 3))
        for term in key_terms(text):
            if share <= 0 or len(added) >= max_terms:
                break
            tokens = set(tokenize(term))
            if tokens and tokens <= have:
                continue
            if max_chars is not None and len(question) + len(term) + 1 > max_chars:
                continue
            max_chars = None if max_chars is None else max_chars - len(term) - 1
            added.append(term)
            have |= tokens
            share -= 1
    if not added:
        return question
    return f"{question} {' '.join(added)}"


def before_last_question(turns: Sequence[ChatTurn]) -> list[ChatTurn]:
    """The user and assistant turns before the last user message with text."""
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].role == "user" and turns[index].text.strip():
            return [t for t in turns[:index] if t.role in ("user", "assistant")]
    return []
