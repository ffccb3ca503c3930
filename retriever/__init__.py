"""Question → ranked passages with citations.

Import what you need from its module (``retriever.searcher.Retriever``,
``retriever.types.Hit``...): this file imports nothing, so reading a setting's type
(``retriever.types.Mode``) does not load the search stack (FAISS, BM25, SQLite).
"""
