"""The follow-up conversation set (``scripts/data/followups.jsonl``): loading and turns.

Each line is a conversation: earlier turns (a question ``q`` and the answer ``a`` the
reader gave), a last turn with the follow-up question, and the ``gold`` string only the
answering paragraph holds. Imported by scripts (``followups_data``) and by tests
(``scripts.followups_data``), so it imports nothing from the scripts folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from retriever.answer.chat import ChatTurn

FOLLOWUPS = Path(__file__).resolve().parent / "data" / "followups.jsonl"


def load_conversations(path: Path = FOLLOWUPS) -> list[dict[str, Any]]:
    """The conversations of ``path``, one JSON object per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def earlier_turns(row: dict[str, Any], answers: bool = True) -> list[ChatTurn]:
    """The turns before ``row``'s follow-up: each question, then (``answers``) its answer."""
    turns = []
    for turn in row["turns"][:-1]:
        turns.append(ChatTurn("user", turn["q"]))
        if answers:
            turns.append(ChatTurn("assistant", turn["a"]))
    return turns
