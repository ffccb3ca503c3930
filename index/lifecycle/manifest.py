"""The ``manifest.json`` that describes one committed index generation."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from index.encoders.specs import EncoderSpec
from index.errors import IndexMismatchError
from index.fsutil import atomic_write_text

FORMAT_VERSION = 3  # 3: sentence vectors (sentences/) beside the passage vectors
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
    vector_index: str  # the vector store's index kind(s): FAISS (IDMap2,Flat, IVF...) or milvus:...
    lexical: bool
    encoders: list[dict[str, object]]
    sentences: int  # rows of sentences/*.npy
    # False: built without sentence vectors (the fast profile); absent in older manifests.
    sentence_vectors: bool = True
    # True: sentence vectors pooled from the passage pass (DOCQA_SENTENCE_POOLING), not
    # encoded on their own; the second stage weighs them with its own fitted model.
    # Absent in older manifests, which all encoded sentences on their own.
    sentence_pooling: bool = False

    @property
    def encoder_specs(self) -> tuple[EncoderSpec, ...]:
        return tuple(EncoderSpec(str(e["name"]), int(str(e["dimension"]))) for e in self.encoders)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if "vector_index" not in raw and "faiss_index" in raw:
                # Manifests written before the field was named for any store.
                raw["vector_index"] = raw.pop("faiss_index")
            optional = {"sentence_vectors", "sentence_pooling"}
            return cls(
                **{
                    name: raw[name]
                    for name in cls.__dataclass_fields__
                    if name in raw or name not in optional
                }
            )
        except FileNotFoundError as exc:
            raise IndexMismatchError(f"{path} is missing; rebuild the index") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexMismatchError(f"{path} is unreadable ({exc}); rebuild the index") from exc

    def write(self, directory: Path) -> None:
        atomic_write_text(directory / MANIFEST_NAME, self.to_json())

    def check_compatible(self, specs: tuple[EncoderSpec, ...]) -> None:
        """Refuse an index built for other encoders, dimensions or another format."""
        if self.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index format {self.format_version} is not {FORMAT_VERSION}, which this "
                "docqa reads; rebuild it with `docqa index --rebuild PATH...`"
            )
        built = self.encoder_specs
        if [s.name for s in built] != [s.name for s in specs]:
            wanted = ", ".join(s.name for s in specs)
            have = ", ".join(s.name for s in built)
            raise IndexMismatchError(
                f"index was built with encoders [{have}] but [{wanted}] are configured; "
                f"set DOCQA_MODEL={self.model!r} (and DOCQA_E5 or DOCQA_PROFILE to match) or "
                "rebuild with `docqa index --rebuild PATH...`"
            )
        for old, new in zip(built, specs, strict=True):
            if old.dimension != new.dimension:
                raise IndexMismatchError(
                    f"index vectors of {old.name!r} have dimension {old.dimension} but the "
                    f"model gives {new.dimension}; rebuild with `docqa index --rebuild PATH...`"
                )
