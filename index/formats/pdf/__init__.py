"""PDF files: layout-aware passages, running headers left out, OCR for scanned pages."""

from index.formats.pdf.document import extract_pdf

__all__ = ["extract_pdf"]
