"""Saving and loading the fine-tuned upper encoder layers as small int8 deltas.

Only layers ``[frozen_layers, n_layers)`` and the span head are trained. Each trained
layer is stored as its difference from the base encoder's weights (MiniLM or e5, named
in the manifest, see ``bases``): matrices as int8 with one float32 scale per output row,
vectors (biases, LayerNorm) as float32. That keeps every file well under 5 MB while the
reconstruction error stays far below the training noise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.fsutil import atomic_file, atomic_write_text
from retriever.errors import WeightsMismatchError

if TYPE_CHECKING:
    # Only the layer and head files need torch: reading the manifest (the ONNX reader's
    # check of its weights) does not.
    import torch
    from torch import nn

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HEAD_FILE = "head.safetensors"


def layer_file(index: int) -> str:
    """File name that stores the delta of encoder layer ``index``."""
    return f"layer{index}.safetensors"


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    with atomic_file(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))


def save_layer_delta(trained: nn.Module, base: nn.Module, path: Path) -> None:
    """Store ``trained - base`` parameter-wise (int8 matrices, float32 vectors)."""
    import torch

    base_params = dict(base.named_parameters())
    out: dict[str, torch.Tensor] = {}
    for name, param in trained.named_parameters():
        delta = (param.detach().float() - base_params[name].detach().float()).cpu()
        if delta.dim() == 2:
            scale = delta.abs().amax(dim=1).clamp_min(1e-12) / 127.0
            out[f"{name}.q"] = torch.round(delta / scale[:, None]).to(torch.int8)
            out[f"{name}.scale"] = scale
        else:
            out[name] = delta
    _atomic_save(out, path)


def apply_layer_delta(layer: nn.Module, path: Path) -> None:
    """Add a stored delta onto ``layer``'s parameters in place."""
    import torch
    from safetensors.torch import load_file

    stored = load_file(str(path))
    with torch.no_grad():
        for name, param in layer.named_parameters():
            if f"{name}.q" in stored:
                delta = stored[f"{name}.q"].float() * stored[f"{name}.scale"][:, None]
            elif name in stored:
                delta = stored[name]
            else:
                raise WeightsMismatchError(f"{path} lacks parameter {name!r}")
            param.add_(delta.to(param.dtype))


def save_head(head: nn.Linear, path: Path) -> None:
    """Store the span head (float32, it is tiny)."""
    _atomic_save(
        {"weight": head.weight.detach().float().cpu(), "bias": head.bias.detach().float().cpu()},
        path,
    )


def load_head(path: Path, hidden: int) -> nn.Linear:
    """Load the span head saved by :func:`save_head`."""
    from safetensors.torch import load_file
    from torch import nn

    stored = load_file(str(path))
    head = nn.Linear(hidden, 2)
    head.load_state_dict({"weight": stored["weight"], "bias": stored["bias"]})
    return head


def write_manifest(weights_dir: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    text = json.dumps({"format_version": FORMAT_VERSION, **manifest}, indent=2, sort_keys=True)
    atomic_write_text(weights_dir / MANIFEST, text + "\n")


def read_manifest(weights_dir: Path) -> dict[str, Any]:
    """Read and version-check ``manifest.json``."""
    path = weights_dir / MANIFEST
    if not path.exists():
        raise WeightsMismatchError(
            f"{path} is missing: train weights with `python -m scripts.lab.train_span`"
        )
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise WeightsMismatchError(
            f"{path} has format {manifest.get('format_version')}, expected {FORMAT_VERSION}"
        )
    return manifest
