"""One copy of an encoder's word-embedding table, memory-mapped by its graphs and reader.

e5's table is 250k x 384 float32 (384 MB). Embedded in each ONNX graph and in the
answer reader's PyTorch model, it was held once per graph and once more by the reader.
Here it is one raw float32 file beside the graphs: the graphs reference it as ONNX
external data, which ONNX Runtime memory-maps instead of copying, and the reader's
embedding layer is a tensor over a memory map of the same file. So every session and
every ``--workers`` process reads the same page-cache pages, and only the rows of
tokens actually seen become resident. The bytes are those of the float32 model, so the
vectors are unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import DocqaError
from index.fsutil import atomic_file

#: The table's tensor name in a Hugging Face BERT ``model.safetensors``.
WEIGHTS_KEY = "embeddings.word_embeddings.weight"
#: Its initializer name in the graphs ``index.encoders.bert_onnx`` exports.
GRAPH_KEY = "bert." + WEIGHTS_KEY


def ensure_word_table(weights: Path, target: Path) -> Path:
    """Write the word table of the safetensors file ``weights`` to ``target`` unless there.

    The file is raw float32, row-major, written to a temporary name and renamed into
    place, so a reader never maps a half-written table.
    """
    if target.is_file():
        return target
    from safetensors import safe_open

    with safe_open(str(weights), framework="np") as handle:
        table = np.ascontiguousarray(handle.get_tensor(WEIGHTS_KEY), dtype=np.float32)
    with atomic_file(target) as staging:
        table.tofile(staging)
    return target


def open_word_table(path: Path, dimension: int) -> npt.NDArray[np.float32]:
    """The table in ``path`` as a read-only ``(vocabulary, dimension)`` memory map.

    Raises:
        DocqaError: the file's size is not a whole number of rows.
    """
    size = path.stat().st_size
    if size == 0 or size % (4 * dimension):
        raise DocqaError(f"{path} is not a float32 table {dimension} wide: delete it to rebuild")
    rows = size // (4 * dimension)
    return np.memmap(path, dtype=np.float32, mode="r", shape=(rows, dimension))


def share_word_table(graph: Path, table: Path) -> Path:
    """A copy of ``graph`` whose word table is read from ``table`` (built once, cached).

    The copy is written beside ``graph`` as ``<stem>.shared.onnx``; ``table`` must be in
    the same directory (ONNX external data is located relative to the graph). Building
    checks that the graph's own table holds the same numbers as ``table``.

    Raises:
        DocqaError: the two tables differ, or ``table`` is elsewhere.
    """
    target = graph.with_name(f"{graph.stem}.shared.onnx")
    if target.is_file():
        return target
    if table.parent != graph.parent:
        raise DocqaError(f"{table} must be in the directory of {graph}")
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    found = [init for init in model.graph.initializer if init.name == GRAPH_KEY]
    if not found:
        raise DocqaError(f"{graph} has no initializer {GRAPH_KEY}: delete it to rebuild")
    own = numpy_helper.to_array(found[0])
    shared = open_word_table(table, int(own.shape[1]))
    if shared.shape != own.shape or not np.array_equal(shared, own):
        raise DocqaError(f"{graph} and {table} hold different word tables: delete both to rebuild")
    init = found[0]
    init.ClearField("raw_data")
    init.ClearField("float_data")
    init.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", table.name), ("offset", "0"), ("length", str(own.nbytes))):
        entry = init.external_data.add()
        entry.key, entry.value = key, value
    with atomic_file(target) as staging:
        onnx.save(model, str(staging))
    return target
