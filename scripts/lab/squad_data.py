"""SQuAD v1.1 loading and the deterministic train / held-out article split.

The span model is trained on SQuAD *dev* articles (the only SQuAD data we have), so every
reported figure must use the held-out articles only. The split is a pure function of the
sorted article titles and is also recorded in ``weights/split.json`` next to the weights.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

#: Every ``HELD_OUT_EVERY``-th article (sorted by title, offset ``HELD_OUT_OFFSET``) is held out.
HELD_OUT_EVERY = 3
HELD_OUT_OFFSET = 2


@dataclass(frozen=True)
class SquadQuestion:
    """One SQuAD question with its gold paragraph.

    Attributes:
        qid: SQuAD question id.
        title: Article title (with underscores, as in the raw file).
        context: The gold paragraph text.
        question: Question text.
        answers: Gold answer texts (deduplicated, original order).
        answer_starts: Character offsets of each answer in ``context`` (same order).
    """

    qid: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]


def split_titles(titles: list[str]) -> tuple[list[str], list[str]]:
    """Split article titles into (train, held_out), deterministically.

    Args:
        titles: Article titles in any order.

    Returns:
        The train titles and the held-out titles, each sorted.
    """
    ordered = sorted(set(titles))
    held = [t for i, t in enumerate(ordered) if i % HELD_OUT_EVERY == HELD_OUT_OFFSET]
    train = [t for i, t in enumerate(ordered) if i % HELD_OUT_EVERY != HELD_OUT_OFFSET]
    return train, held


def validation_titles(train_titles: list[str], every: int) -> list[str]:
    """Every ``every``-th of the sorted training titles (none when ``every`` is 0).

    Validation articles are left out of training and choose the recipe (epochs, the
    answer threshold); the held-out articles are never looked at for that.
    """
    if every <= 0:
        return []
    ordered = sorted(set(train_titles))
    return [t for i, t in enumerate(ordered) if i % every == every - 1]


def load_squad(data_dir: Path) -> list[SquadQuestion]:
    """Load every question of ``raw/dev-v1.1.json.gz`` under ``data_dir``.

    Args:
        data_dir: The SQuAD directory (holding ``raw/dev-v1.1.json.gz``).

    Returns:
        All questions, in file order.
    """
    with gzip.open(data_dir / "raw" / "dev-v1.1.json.gz", "rt", encoding="utf-8") as fh:
        articles = json.load(fh)["data"]
    out: list[SquadQuestion] = []
    for article in articles:
        for para in article["paragraphs"]:
            context = para["context"]
            for qa in para["qas"]:
                seen: dict[str, int] = {}
                for ans in qa["answers"]:
                    seen.setdefault(ans["text"], int(ans["answer_start"]))
                out.append(
                    SquadQuestion(
                        qid=qa["id"],
                        title=article["title"],
                        context=context,
                        question=qa["question"],
                        answers=tuple(seen),
                        answer_starts=tuple(seen.values()),
                    )
                )
    return out


def questions_for(questions: list[SquadQuestion], titles: list[str]) -> list[SquadQuestion]:
    """Keep the questions whose article title is in ``titles``."""
    wanted = set(titles)
    return [q for q in questions if q.title in wanted]
