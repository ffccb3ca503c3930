"""The ``manifest.json`` that describes one committed index generation."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from index.errors import IndexMismatchError
from index.fsutil import atomic_write_text

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """Everything needed to check an index before trusting it."""

    format_version: int
    package_version: str
    created: str
    generation: int
    model: str
    dimension: int
    count: int
    documents: int
    normalized: bool
    metric: str
    faiss_index: str
    lexical: bool

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{name: raw[name] for name in cls.__dataclass_fields__})
        except FileNotFoundError as exc:
            raise IndexMismatchError(f"{path} is missing; rebuild the index") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexMismatchError(f"{path} is unreadable ({exc}); rebuild the index") from exc

    def write(self, directory: Path) -> None:
        atomic_write_text(directory / MANIFEST_NAME, self.to_json())

    def check_compatible(self, model: str, dimension: int) -> None:
        """Refuse an index built for another model, dimension or format."""
        if self.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index format {self.format_version} is not {FORMAT_VERSION}, which this "
                "docqa reads; rebuild it with `docqa index --rebuild PATH...`"
            )
        if self.model != model:
            raise IndexMismatchError(
                f"index was built with model {self.model!r} but {model!r} is configured; "
                f"set DOCQA_MODEL={self.model!r} or rebuild with `docqa index --rebuild PATH...`"
            )
        if self.dimension != dimension:
            raise IndexMismatchError(
                f"index vectors have dimension {self.dimension} but model {model!r} gives "
                f"{dimension}; rebuild with `docqa index --rebuild PATH...`"
            )
