"""From paths on disk to documents in the index, one file's failure never stopping the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocqaError, ExtractionError
from index.formats import extract, supported_suffixes
from index.formats.sandbox import ExtractLimits, extract_bounded
from index.formats.textcheck import json_problems
from index.ids import document_id_for_path
from index.lifecycle.writer import IndexWriter
from index.models import DocumentInput

SIDECAR_SUFFIX = ".meta.json"
# Most file systems cap a name at 255 bytes; the sidecar's name must fit too.
MAX_NAME_BYTES = 255 - len(SIDECAR_SUFFIX.encode())
_MAX_SIDECAR_DEPTH = 32


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
    check_name_length(path.name)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ExtractionError(str(sidecar), f"unreadable metadata sidecar: {exc}") from exc
    if not isinstance(data, dict):
        raise ExtractionError(str(sidecar), "metadata sidecar must hold a JSON object")
    for problem in json_problems(data, _MAX_SIDECAR_DEPTH):
        raise ExtractionError(str(sidecar), f"metadata sidecar: {problem}")
    return data


def check_name_length(name: str) -> None:
    """Refuse names whose metadata sidecar name would be too long for the file system."""
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME_BYTES:
        raise ExtractionError(
            name,
            f"file name is {size} bytes; the limit is {MAX_NAME_BYTES} (255 with the "
            f"{SIDECAR_SUFFIX} sidecar)",
        )


def load_document(
    path: Path,
    limits: ExtractLimits | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DocumentInput:
    """Extract one file into a document with a stable id and its metadata.

    With ``limits`` the file is read in a worker process held to them (see
    :mod:`index.formats.sandbox`); without, in this process.
    """
    check_name_length(path.name)
    extracted = extract(path) if limits is None else extract_bounded(path, limits, cancelled)
    if not extracted.text.strip():
        # Indexed, it would be a document nothing can find or cite.
        raise ExtractionError(str(path), "has no text to index (the file is empty or blank)")
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
        passages=extracted.passages,
        boxes=tuple(
            (b.char_start, b.char_end, b.page, b.x0, b.y0, b.x1, b.y1) for b in extracted.boxes
        ),
    )


def stage_paths(
    writer: IndexWriter,
    discovery: Discovery,
    on_file: Callable[[Path], None] | None = None,
    limits: ExtractLimits | None = None,
) -> list[FileError]:
    """Upsert every discovered file and drop documents whose files left a scanned folder.

    Returns the per-file errors; files that failed keep their previous version, if any.
    """
    errors = list(discovery.errors)
    seen: set[str] = set()
    for path in discovery.files:
        try:
            doc = load_document(path, limits)
            seen.add(doc.document_id)
            writer.upsert(doc)
        except DocqaError as exc:
            errors.append(FileError(str(path), getattr(exc, "reason", str(exc))))
            seen.add(document_id_for_path(path))  # a broken file is not a deleted one
        except OSError as exc:  # e.g. a name the file system refuses, a vanished file
            errors.append(FileError(str(path), f"cannot read file: {exc.strerror or exc}"))
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
