"""Documents → passages with offsets → vectors, BM25 and SQLite, in generations.

Import from the subpackages, one per concern: ``formats`` (files → text with offsets),
``passages`` (splitting, sentences), ``encoders`` (text → unit vectors), ``stores``
(passages in SQLite, vectors in FAISS or Milvus, BM25, sentence vectors) and
``lifecycle`` (generations, manifests, the writer and read snapshots). This module
imports nothing, so ``from index.errors import ...`` stays light.
"""
