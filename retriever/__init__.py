"""Question → ranked passages with citations: search, fusion, rerank/ and answer/.

Import from the modules; this one imports nothing, so loading one module stays light.
"""
