"""Build the extractive chat reply: the answer with numbered citations and its sources.

Everything in the reply is text copied from retrieved passages (plus fixed wording),
so every claim can be traced to ``citations[n].text``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.errors import DocqaError
from retriever.answer.choice import Answer, AnswerKind
from retriever.types import Hit

NO_ANSWER = "I could not find an answer in the indexed documents."
#: Heads the list of cited passages, after a blank line (follow-ups cut it off again).
SOURCES_HEADING = "Sources:"
#: Heads the closest passages listed under a "not found" reply (cut off like sources).
CLOSEST_HEADING = "Closest passages:"
#: Passages listed under a "not found" reply.
CLOSEST_SHOWN = 3
_SPACE = re.compile(r"\s+")
# Document text is data, not markup: chat frontends render `content` as Markdown (with
# inline HTML), so a passage holding "<script>" or "[x](javascript:...)" must show as
# text. CommonMark treats a backslash before any ASCII punctuation as that character.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~&])")


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown/HTML control character backslash-escaped."""
    return _MARKUP.sub(r"\\\1", text)


class ChatRequestError(DocqaError):
    """The conversation holds no user question."""


@dataclass(frozen=True)
class ChatTurn:
    role: str
    text: str


@dataclass(frozen=True)
class Cited:
    """A passage cited as ``[number]``."""

    number: int
    hit: Hit


@dataclass(frozen=True)
class ChatReply:
    content: str
    answer: str
    sources: str
    cited: tuple[Cited, ...]


def question_of(turns: Sequence[ChatTurn], max_chars: int) -> str:
    """The last user message with text, which is the question.

    A message longer than ``max_chars`` keeps its end: in a chat, a long message is
    usually pasted context followed by the question.

    Raises:
        ChatRequestError: no user message with text.
    """
    for turn in reversed(turns):
        text = turn.text.strip()
        if turn.role == "user" and text:
            if len(text) > max_chars:
                tail = text[-max_chars:]
                space = tail.find(" ")
                text = tail[space + 1 :] if 0 <= space < len(tail) - 1 else tail
            return text.strip()
    raise ChatRequestError("messages: no user message with text to answer")


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def compose(
    answer: Answer | None, hits: Sequence[Hit], show: Callable[[str], str] = str
) -> ChatReply:
    """Answer text with ``[n]`` markers and a "Sources:" list.

    ``show`` turns a stored source into the one the reader sees (the HTTP API hides
    server paths).

    The answer's own passage is ``[1]``; other passages whose extracted answer is the
    same text corroborate it and are cited too. A passage that gives several answers
    (two signers) has them all named ("Wu Wei and Chen Xinjian"). Without an answer (not
    found) the reply says so and lists the closest passages under :data:`CLOSEST_HEADING`.
    """
    if answer is None:
        # Not found: say so, and still list the closest passages (as /v1/ask does).
        closest = tuple(Cited(n, hit) for n, hit in enumerate(hits[:CLOSEST_SHOWN], start=1))
        if not closest:
            return ChatReply(NO_ANSWER, NO_ANSWER, "", ())
        listed_closest = CLOSEST_HEADING + "\n" + _source_lines(closest, show)
        return ChatReply(f"{NO_ANSWER}\n\n{listed_closest}", NO_ANSWER, listed_closest, closest)
    order = [answer.passage]
    if answer.kind is AnswerKind.EXTRACTED:
        wanted = _normal(answer.text)
        order += [
            i
            for i, hit in enumerate(hits)
            if i != answer.passage and hit.answer is not None and _normal(hit.answer.text) == wanted
        ]
    cited = tuple(Cited(n, hits[i]) for n, i in enumerate(order, start=1))
    marks = "".join(f"[{c.number}]" for c in cited)
    said = escape_markdown(answer.named)
    if answer.kind is AnswerKind.EXTRACTED:
        text = f"{said} {marks}"
    else:
        # Clearly marked: this is the closest text found, not an extracted answer.
        text = f"No exact answer was extracted; the closest passage says: “{said}” {marks}"
    sources = SOURCES_HEADING + "\n" + _source_lines(cited, show)
    return ChatReply(f"{text}\n\n{sources}", text, sources, cited)


def _source_lines(cited: Sequence[Cited], show: Callable[[str], str]) -> str:
    """One ``[n] title — source (¶paragraph, p. page)`` line per cited passage."""
    lines = []
    for c in cited:
        cite = c.hit.citation
        where = f"¶{cite.paragraph}" + (f", p. {cite.page}" if cite.page is not None else "")
        title, source = escape_markdown(cite.title), escape_markdown(show(cite.source))
        lines.append(f"[{c.number}] {title} — {source} ({where})")
    return "\n".join(lines)
