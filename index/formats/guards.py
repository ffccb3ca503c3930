"""Cheap checks that refuse files whose extraction would cost far more than their size.

Each runs before (or right after) the format's extractor, inside the extraction worker.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import ExtractionError
from index.formats.extracted import Extracted

logger = logging.getLogger(__name__)

# An HTML parser checks its stack of open elements on many tags, so deep nesting costs
# time quadratic in the depth; counting depth first is linear. Void elements and those
# the parser closes implicitly (p, li, td, ...) do not nest, so they are not counted.
# Attributes are bounded so that a "<a" with no ">" after it costs no more than 4 KiB.
_TAG = re.compile(rb"<(/?)([a-z][a-z0-9-]*)[^<>]{0,4096}?(/?)>")
_FLAT = frozenset(
    b"area base br col embed hr img input link meta param source track wbr "
    b"p li dt dd tr td th option optgroup thead tbody tfoot colgroup rb rt rp".split()
)
_OPAQUE = frozenset({b"script", b"style", b"textarea", b"title", b"xmp"})


def html_depth(data: bytes, limit: int) -> int:
    """The deepest element nesting in ``data``, counted up to ``limit + 1``."""
    depth = deepest = 0
    position = 0
    data = data.lower()
    while match := _TAG.search(data, position):
        position = match.end()
        closing, name, self_closing = match.group(1), match.group(2), match.group(3)
        if name in _FLAT or self_closing:
            continue
        if name in _OPAQUE and not closing:
            end = data.find(b"</" + name, position)  # raw text: no tags inside
            position = len(data) if end < 0 else end
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def check_html(path: Path, data: bytes, max_depth: int) -> None:
    if html_depth(data, max_depth) > max_depth:
        raise ExtractionError(
            str(path),
            f"HTML nests elements deeper than the limit of {max_depth} (DOCQA_MAX_HTML_DEPTH)",
        )


class _ToDebug(logging.Handler):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        logger.debug("pypdf on %s: %s", self.path.name, record.getMessage())


@contextmanager
def _pypdf_as_debug(path: Path) -> Iterator[None]:
    # pypdf logs each repair of a malformed file ("EOF marker not found") as a warning;
    # with no handler configured Python prints it bare on stderr, next to (and without
    # the file name of) the extractor's own error. This guard only counts streams, so
    # those lines go to our debug log instead. It runs in the single-threaded extraction
    # worker, where swapping the logger's routing for the parse races with nothing.
    source = logging.getLogger("pypdf")
    handler, propagate = _ToDebug(path), source.propagate
    source.addHandler(handler)
    source.propagate = False
    try:
        yield
    finally:
        source.removeHandler(handler)
        source.propagate = propagate


def check_pdf(path: Path, data: bytes, max_reuse: int) -> None:
    """Refuse PDFs whose pages share one content stream more than ``max_reuse`` times.

    Extraction interprets a page's content streams once per page, so one large stream
    named by every page multiplies the work without adding bytes.
    """
    import io

    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, IndirectObject

    with _pypdf_as_debug(path):
        try:
            reader = PdfReader(io.BytesIO(data))
            uses: Counter[tuple[int, int]] = Counter()
            for page in reader.pages:
                contents = page.raw_get("/Contents") if "/Contents" in page else None
                if isinstance(contents, IndirectObject):
                    resolved = contents.get_object()
                    refs = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
                else:
                    refs = list(contents) if isinstance(contents, ArrayObject) else []
                for ref in set(r for r in refs if isinstance(r, IndirectObject)):
                    uses[(ref.idnum, ref.generation)] += 1
        except Exception:
            return  # the extractor reports a malformed or encrypted file in its own words
    if uses and max(uses.values()) > max_reuse:
        raise ExtractionError(
            str(path),
            f"{max(uses.values())} pages share one content stream; the limit is {max_reuse} "
            "(DOCQA_PDF_MAX_STREAM_REUSE)",
        )


def check_extracted(path: Path, extracted: Extracted, max_chars: int, max_page: int) -> None:
    if len(extracted.text) > max_chars:
        raise ExtractionError(
            str(path),
            f"{len(extracted.text)} characters of text; the limit per file is {max_chars} "
            "(DOCQA_MAX_FILE_CHARS)",
        )
    for page in extracted.pages:
        if page.char_end - page.char_start > max_page:
            raise ExtractionError(
                str(path),
                f"page {page.number} holds {page.char_end - page.char_start} characters; the "
                f"limit per page is {max_page} (DOCQA_MAX_PAGE_CHARS)",
            )
