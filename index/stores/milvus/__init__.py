"""Vectors in Milvus (Lite or a cluster): the store, its client and filter expressions."""
