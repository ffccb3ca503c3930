"""HTML files: the main text of a page, one paragraph per block element."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from index.errors import ExtractionError
from index.formats.blocks import join_blocks
from index.formats.extracted import Extracted

# Page furniture and non-text content. header/footer are handled separately
# because inside <main>/<article> they hold the article's own title and byline.
_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "aside",
        "form",
        "svg",
        "iframe",
        "head",
        "title",
        "object",
        "embed",
        "canvas",
        "select",
        "button",
    }
)
_PAGE_FURNITURE = frozenset({"header", "footer"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "menu",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "ul",
    }
    | _HEADINGS
)
_CELLS = frozenset({"td", "th"})
_WHITESPACE = re.compile(r"\s+")
# Only the document's first bytes are searched: the HTML spec says a <meta> charset
# must appear within the first 1024 bytes; 4096 tolerates long <head> preambles.
_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _declared_encoding(data: bytes) -> str:
    """The charset a page declares, as a Python codec name; UTF-8 when none is usable."""
    head = data[:_SNIFF_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if match is None:
        return "utf-8"
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return "utf-8"
    # Browsers (WHATWG Encoding) read latin-1/ascii labels as windows-1252, and a
    # UTF-16 label on ASCII-compatible bytes is a lie, since the <meta> was readable.
    if name in {"latin-1", "iso8859-1", "ascii"}:
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return name


def decode_html(path: Path, data: bytes) -> str:
    """Decode HTML bytes using the BOM, then the declared charset, then UTF-8.

    Raises:
        ExtractionError: the bytes are binary or not valid in the chosen encoding.
    """
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        if b"\x00" in data[:8192]:
            raise ExtractionError(str(path), "looks like a binary file (NUL bytes); not HTML")
        encoding = _declared_encoding(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            str(path), f"not valid {encoding} (byte {exc.start}); re-save the file as UTF-8"
        ) from exc


class _Collector:
    """Accumulates inline text and cuts it into paragraphs at block boundaries."""

    def __init__(self) -> None:
        self.paragraphs: list[tuple[str, bool]] = []
        self.heading_depth = 0
        self.pre_depth = 0
        self._buffer: list[str] = []

    def add(self, text: str) -> None:
        self._buffer.append(text)

    def emit(self, text: str) -> None:
        if text:
            self.paragraphs.append((text, self.heading_depth > 0))

    def flush(self) -> None:
        raw = "".join(self._buffer)
        self._buffer.clear()
        if self.pre_depth:
            # Preformatted line breaks mean something; blank lines would split the
            # block into several paragraphs downstream, so they are dropped.
            lines = (line.rstrip() for line in raw.splitlines())
            self.emit("\n".join(line for line in lines if line).strip())
        else:
            self.emit(_WHITESPACE.sub(" ", raw).strip())


def _children(node: LexborNode) -> list[LexborNode]:
    return list(node.iter(include_text=True))


def _row_text(row: LexborNode, skip: frozenset[str]) -> str:
    cells = []
    for cell in _children(row):
        if cell.tag in _CELLS:
            text = " ".join(text for text, _ in _paragraphs(cell, skip))
            if text:
                cells.append(text)
    return " | ".join(cells)


def _paragraphs(root: LexborNode, skip: frozenset[str]) -> list[tuple[str, bool]]:
    """Paragraphs under ``root``, each with whether it is a heading."""
    out = _Collector()
    # An explicit stack instead of recursion: real pages nest deeper than Python's
    # recursion limit. A (node, True) entry closes the block ``node`` opened.
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag or ""
        if closing:
            out.flush()
            if tag in _HEADINGS:
                out.heading_depth -= 1
            if tag == "pre":
                out.pre_depth -= 1
            continue
        if node.is_text_node:
            out.add(node.text_content or "")
            continue
        if not node.is_element_node or tag in skip or "hidden" in node.attributes:
            continue
        if tag == "br":
            out.add("\n")
            continue
        if tag == "tr":
            out.flush()
            out.emit(_row_text(node, skip))
            continue
        if tag in _BLOCKS or tag in _CELLS:
            out.flush()
            if tag in _HEADINGS:
                out.heading_depth += 1
            if tag == "pre":
                out.pre_depth += 1
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    out.flush()
    return out.paragraphs


def _content_roots(tree: LexborHTMLParser) -> tuple[list[LexborNode], frozenset[str]]:
    """The nodes holding the page's main text, and the tags to skip under them."""
    main = tree.css_first("main")
    if main is not None:
        return [main], _SKIP
    # Outermost articles only, and not the "related articles" teasers in an aside.
    excluded = _SKIP | _PAGE_FURNITURE | {"article"}
    articles = [a for a in tree.css("article") if not _has_ancestor(a, excluded)]
    if articles:
        return articles, _SKIP
    root = tree.body or tree.root
    # With no <main>/<article>, any header/footer is the site's banner or footer.
    return ([root] if root is not None else []), _SKIP | _PAGE_FURNITURE


def _has_ancestor(node: LexborNode, tags: frozenset[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _title(tree: LexborHTMLParser) -> str | None:
    head = tree.head
    title = head.css_first("title") if head is not None else None
    if title is not None:
        text = _WHITESPACE.sub(" ", title.text(deep=True)).strip()
        if text:
            return text
    h1 = tree.css_first("h1")
    if h1 is not None:
        text = " ".join(text for text, _ in _paragraphs(h1, _SKIP))
        if text:
            return text
    return None


def extract_html(path: Path) -> Extracted:
    """An ``.html``/``.htm`` file: main content only, block elements as paragraphs.

    Scripts, styles, navigation, forms, asides and page-level header/footer are
    dropped; ``<main>`` or ``<article>`` is preferred over ``<body>`` when present.
    ``h1``-``h6`` become headings; the title is ``<title>``, else the first ``<h1>``.

    Raises:
        ExtractionError: the file is binary or not valid in its declared encoding.
    """
    tree = LexborHTMLParser(decode_html(path, path.read_bytes()))
    roots, skip = _content_roots(tree)
    paragraphs = [para for root in roots for para in _paragraphs(root, skip)]
    text, headings = join_blocks(paragraphs)
    return Extracted(text=text, title=_title(tree), headings=headings)
