"""Stores of one generation: passages (SQLite), vectors (FAISS, Milvus), BM25, sentences."""
