"""Where the encoders run: ``DOCQA_DEVICE`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``...).

``auto`` (the default) picks CUDA when this machine has an NVIDIA GPU that PyTorch can
use, else the CPU. The probe looks for a driver first (``/dev/nvidia0``, ``nvidia-smi``),
so a CPU machine never imports torch just to find out: the serve and search paths stay
torch-free there.

On CUDA the encoders run through PyTorch in fp16 (sentence-transformers for MiniLM,
:class:`~index.encoders.e5.torch_encoder.TorchE5Encoder` for e5): the int8 ONNX graphs
are made for CPUs (dynamic int8 matmuls), where they are the fastest runtime.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

AUTO = "auto"


def cuda_present() -> bool:
    """Whether an NVIDIA driver is installed and PyTorch sees a CUDA device."""
    if not (Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi")):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(setting: str | None, probe: Callable[[], bool] = cuda_present) -> str:
    """The device a setting means: ``auto`` (or unset) -> ``cuda`` or ``cpu``."""
    if setting in (None, "", AUTO):
        return "cuda" if probe() else "cpu"
    return str(setting)
