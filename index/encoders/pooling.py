"""Masked mean pooling: a text's vector is the mean of its token states (MiniLM and e5).

One recipe in two array libraries: NumPy for ONNX Runtime outputs, PyTorch for the
models run (and traced into ONNX graphs) in torch. Neither function imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch


def mean_pool(
    hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Mean over the token axis of ``(batch, length, hidden)`` states, padding left out."""
    weights = mask[..., None].astype(np.float32)
    totals = (hidden.astype(np.float32) * weights).sum(axis=1)
    return np.asarray(totals / np.maximum(weights.sum(axis=1), 1e-9), dtype=np.float32)


def mean_pool_torch(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """:func:`mean_pool` on torch tensors, in ``hidden``'s dtype (traceable)."""
    weights = mask[..., None].to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1)
