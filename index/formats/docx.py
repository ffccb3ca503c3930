"""Word ``.docx`` files: body paragraphs and table rows, read with python-docx."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from index.errors import ExtractionError
from index.formats.blocks import join_blocks
from index.formats.extracted import Extracted

_WHITESPACE = re.compile(r"\s+")
# python-docx inflates every part in memory; refuse zip bombs before it does.
_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024


def _clean(text: str) -> str:
    # Tabs and soft line breaks inside a Word paragraph are layout, not structure.
    return _WHITESPACE.sub(" ", text).strip()


def _is_heading(paragraph: Paragraph) -> bool:
    style = paragraph.style
    name = style.name if style is not None else None
    return isinstance(name, str) and (name.startswith("Heading") or name == "Title")


def _cell_text(cell: _Cell) -> str:
    parts = []
    for block in cell.iter_inner_content():
        text = _clean(block.text) if isinstance(block, Paragraph) else _table_text(block, " ")
        if text:
            parts.append(text)
    return " ".join(parts)


def _row_texts(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous: _Cell | None = None
        for cell in row.cells:
            # A horizontally merged cell is repeated once per grid column it spans.
            if cell is previous:
                continue
            previous = cell
            text = _cell_text(cell)
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _table_text(table: Table, separator: str) -> str:
    return separator.join(_row_texts(table))


def _blocks(document: Document) -> list[tuple[str, bool]]:
    """Body paragraphs and table rows in document order, each with whether it is a heading."""
    blocks: list[tuple[str, bool]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = _clean(block.text)
            if text:
                blocks.append((text, _is_heading(block)))
        else:
            blocks.extend((row, False) for row in _row_texts(block))
    return blocks


def _check_archive(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ExtractionError(str(path), f"not a valid DOCX (not a zip archive: {exc})") from exc
    if size > _MAX_UNCOMPRESSED_BYTES:
        raise ExtractionError(
            str(path), f"DOCX inflates to {size} bytes, over the {_MAX_UNCOMPRESSED_BYTES} limit"
        )


def _title(document: Document, blocks: list[tuple[str, bool]]) -> str | None:
    title = _clean(document.core_properties.title or "")
    if title:
        return title
    return next((text for text, is_heading in blocks if is_heading), None)


def extract_docx(path: Path) -> Extracted:
    """A ``.docx`` file: each non-empty paragraph, and each table row as ``a | b | c``.

    Paragraphs styled ``Title`` or ``Heading*`` become headings. The title is the
    document property, else the first Title/Heading paragraph. Headers, footers,
    footnotes, comments and text boxes are not read.

    Raises:
        ExtractionError: the file is not a zip archive or not a Word document.
    """
    data = path.read_bytes()
    _check_archive(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document)
        title = _title(document, blocks)
    except Exception as exc:
        # python-docx reports a damaged or non-Word package with KeyError, ValueError,
        # lxml syntax errors and its own types; all of them mean "not a usable .docx".
        raise ExtractionError(str(path), f"not a valid DOCX ({type(exc).__name__}: {exc})") from exc
    text, headings = join_blocks(blocks)
    return Extracted(text=text, title=title, headings=headings)
