"""docqa: document question answering with checkable citations."""
