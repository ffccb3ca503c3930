"""Passages: paragraphs cut to size with exact offsets, and their sentences."""
