"""From paths on disk to documents in the index, one file's failure never stopping the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocqaError, ExtractionError
from index.formats import extract, supported_suffixes
from index.ids import document_id_for_path
from index.lifecycle.writer import IndexWriter
from index.models import DocumentInput

SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class FileError:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    """Files to index, the folders they were found in, and paths that could not be used."""

    files: tuple[Path, ...]
    roots: tuple[Path, ...]
    errors: tuple[FileError, ...]


def discover(paths: Iterable[Path]) -> Discovery:
    """Expand folders (recursively, skipping hidden entries) into supported files."""
    suffixes = set(supported_suffixes())
    files: list[Path] = []
    roots: list[Path] = []
    errors: list[FileError] = []
    for raw in paths:
        path = raw.expanduser().resolve()
        if path.is_dir():
            roots.append(path)
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in suffixes
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            errors.append(FileError(str(raw), "no such file or directory"))
    return Discovery(tuple(dict.fromkeys(files)), tuple(roots), tuple(errors))


def read_sidecar(path: Path) -> dict[str, object]:
    """Metadata from ``NAME.meta.json`` beside the file, if there is one."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExtractionError(str(sidecar), f"unreadable metadata sidecar: {exc}") from exc
    if not isinstance(data, dict):
        raise ExtractionError(str(sidecar), "metadata sidecar must hold a JSON object")
    return data


def load_document(path: Path) -> DocumentInput:
    """Extract one file into a document with a stable id and its metadata."""
    extracted = extract(path)
    metadata = read_sidecar(path)
    title = str(metadata.get("title") or extracted.title or path.stem)
    return DocumentInput(
        document_id=document_id_for_path(path),
        text=extracted.text,
        title=title,
        source=str(path),
        pages=tuple((p.number, p.char_start, p.char_end) for p in extracted.pages),
        headings=tuple((h.char_start, h.text) for h in extracted.headings),
        metadata=metadata,
    )


def stage_paths(
    writer: IndexWriter,
    discovery: Discovery,
    on_file: Callable[[Path], None] | None = None,
) -> list[FileError]:
    """Upsert every discovered file and drop documents whose files left a scanned folder.

    Returns the per-file errors; files that failed keep their previous version, if any.
    """
    errors = list(discovery.errors)
    seen: set[str] = set()
    for path in discovery.files:
        try:
            doc = load_document(path)
            seen.add(doc.document_id)
            writer.upsert(doc)
        except DocqaError as exc:
            errors.append(FileError(str(path), getattr(exc, "reason", str(exc))))
            seen.add(document_id_for_path(path))  # a broken file is not a deleted one
        if on_file is not None:
            on_file(path)
    for document_id, source in writer.indexed_sources().items():
        if document_id in seen:
            continue
        source_path = Path(source)
        if any(source_path.is_relative_to(root) for root in discovery.roots) and not (
            source_path.exists()
        ):
            writer.remove(document_id)
    return errors
