"""Paragraph offsets must slice the document text exactly (golden files + invariants)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.passages.splitter import split_paragraphs
from tests.shared_data import SEED, needs_shared

GOLDEN = Path(__file__).with_name("golden")


def spans(text: str) -> list[tuple[int, int, str]]:
    return [(p.char_start, p.char_end, p.text) for p in split_paragraphs(text)]


def test_hand_checked_offsets() -> None:
    text = "  First para.\nstill first.\n\n\n   Second “quoted” one.  \n \t\nThird\n"
    assert spans(text) == [
        (2, 26, "First para.\nstill first."),
        (32, 52, "Second “quoted” one."),
        (58, 63, "Third"),
    ]


def test_chinese_and_crlf_offsets() -> None:
    text = "青山村签约仪式\r\n\r\n村委会主任李明华代表村民委员会签字。\r\n\r\n“协议”生效。"
    assert spans(text) == [
        (0, 7, "青山村签约仪式"),
        (11, 29, "村委会主任李明华代表村民委员会签字。"),
        (33, 40, "“协议”生效。"),
    ]


@pytest.mark.parametrize("text", ["", "\n\n \n", "   "])
def test_empty_text_has_no_paragraphs(text: str) -> None:
    assert split_paragraphs(text) == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("seed.json", id="seed-article", marks=needs_shared(SEED)),
        pytest.param("mixed.json", id="chinese-curly-quotes"),
    ],
)
def test_golden(name: str) -> None:
    golden = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    text = SEED.read_text(encoding="utf-8") if golden["source"] == "seed" else golden["text"]
    got = [[p.char_start, p.char_end] for p in split_paragraphs(text)]
    assert got == golden["spans"]
    for start, end in got:
        assert text[start:end] == text[start:end].strip() != ""


def test_offsets_slice_text_for_random_layouts() -> None:
    import random

    rng = random.Random(7)
    pieces = ["alpha beta", "“curly”", "中文段落", "x", "tab\tinside", "line\nbreak"]
    for _ in range(200):
        seps = ["\n\n", "\n \n", "\r\n\r\n", "\n\n\n", "\n\t\n"]
        text = rng.choice(["", " ", "\n"]) + "".join(
            rng.choice(pieces) + rng.choice(seps) for _ in range(rng.randint(1, 6))
        )
        found = split_paragraphs(text)
        assert [p.number for p in found] == list(range(len(found)))
        for paragraph in found:
            assert text[paragraph.char_start : paragraph.char_end] == paragraph.text
            assert "\n\n" not in paragraph.text
