"""Encoders: text → L2-normalised float32 vectors (MiniLM, e5; PyTorch, ONNX, engine)."""
