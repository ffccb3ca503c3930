"""Question vectors cached on disk per encoder, so repeated evaluations skip encoding.

e5 encodes about ten questions a second on two CPU cores: SQuAD dev's 10,570 questions
take minutes per encoder, every run. The cache is two files per encoder under
``cache_dir/queries/``: ``<encoder>.json`` (the texts, in row order) and ``<encoder>.npy``
(their vectors). Texts not yet cached are encoded and appended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
BATCH = 256


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def cached_vectors(
    name: str,
    encode: Callable[[list[str]], Vectors],
    texts: list[str],
    cache_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Vectors:
    """Vectors of ``texts`` (row for row) from encoder ``name``, encoding only new texts."""
    folder = cache_dir / "queries"
    known_path, vectors_path = folder / f"{_slug(name)}.json", folder / f"{_slug(name)}.npy"
    known: list[str] = []
    stored: Vectors | None = None
    if known_path.exists() and vectors_path.exists():
        known = json.loads(known_path.read_text(encoding="utf-8"))
        stored = np.load(vectors_path)
        if len(known) != len(stored):  # a torn write: start again
            known, stored = [], None
    row = {text: i for i, text in enumerate(known)}
    missing = list(dict.fromkeys(t for t in texts if t not in row))
    if missing:
        parts = [stored] if stored is not None else []
        for start in range(0, len(missing), BATCH):
            parts.append(encode(missing[start : start + BATCH]))
            if progress is not None:
                progress(min(start + BATCH, len(missing)), len(missing))
        stored = np.concatenate(parts)
        known = known + missing
        row = {text: i for i, text in enumerate(known)}
        folder.mkdir(parents=True, exist_ok=True)
        np.save(vectors_path, stored)
        known_path.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
    assert stored is not None
    return np.ascontiguousarray(stored[[row[t] for t in texts]])
