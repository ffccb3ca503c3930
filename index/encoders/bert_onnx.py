"""Export a ``transformers`` BERT to a fused ONNX graph with int8 matmuls (cached).

The graph is traced from a small hand-written forward over the ``BertModel``'s own
layers rather than from ``BertModel.forward``: the latter builds its attention mask
with shape-specialised indexing that the TorchScript tracer freezes, and the exported
graph then gives wrong answers for any other batch shape. The graph ends in masked mean
pooling, so ONNX Runtime hands back one vector per input instead of every token state.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from index.encoders.pooling import mean_pool_torch
from index.errors import DocqaError
from index.fsutil import atomic_file, fsync_path

if TYPE_CHECKING:
    import torch
    from transformers import BertModel

logger = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask")
OUTPUT = "pooled"
#: The last hidden states, ``(batch, sequence, hidden)``, in graphs from :func:`with_token_states`.
STATES = "states"
_OPSET = 17


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise DocqaError(
            "building an ONNX encoder needs onnx and onnxruntime: pip install onnx onnxruntime"
        ) from exc


def encoder_layers_torch(
    bert: BertModel, x: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """``bert``'s transformer layers over embedded tokens ``x`` (``(batch, length, hidden)``,
    after the embedding LayerNorm), written out so that it traces for any shape."""
    import torch

    config = bert.config
    heads = int(config.num_attention_heads)
    head_dim = int(config.hidden_size) // heads
    batch, length = attention_mask.shape

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.view(batch, length, heads, head_dim).transpose(1, 2)

    # Additive key mask: padded keys get a large negative score. Written in
    # the order BERT's own export uses, which ORT's attention fusion matches.
    bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
    layers: list[Any] = list(cast(Any, bert).encoder.layer)
    for layer in layers:
        att = layer.attention
        q, k, v = split(att.self.query(x)), split(att.self.key(x)), split(att.self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + bias
        context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, -1)
        x = att.output.LayerNorm(att.output.dense(context) + x)
        mid = torch.nn.functional.gelu(layer.intermediate.dense(x))
        x = layer.output.LayerNorm(layer.output.dense(mid) + x)
    return x


def _pooling_encoder(bert: BertModel) -> torch.nn.Module:
    """``(ids, mask) -> masked mean of the last hidden states``."""
    import torch

    class PoolingEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            emb: Any = self.bert.embeddings
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            x: torch.Tensor = emb.LayerNorm(
                emb.word_embeddings(input_ids)
                + emb.position_embeddings(positions)[None]
                + emb.token_type_embeddings.weight[0]
            )
            return mean_pool_torch(
                encoder_layers_torch(self.bert, x, attention_mask), attention_mask
            )

    return PoolingEncoder().eval()


def export_fp32(bert: BertModel, path: Path) -> None:
    """Trace ``bert`` with pooling into an ONNX file with dynamic batch and length."""
    _require_onnx()
    import torch

    module = _pooling_encoder(bert)
    # A padded example, so the tracer sees the masked path with real shapes.
    ids = torch.tensor([[0, 5, 6, 7, 2, 1, 1], [0, 8, 9, 10, 11, 12, 2]])
    mask = (ids != 1).to(torch.int64)
    dynamic = {"batch": 0, "sequence": 1}
    torch.onnx.export(
        module,
        (ids, mask),
        str(path),
        input_names=list(INPUTS),
        output_names=[OUTPUT],
        dynamic_axes={
            "input_ids": {v: k for k, v in dynamic.items()},
            "attention_mask": {v: k for k, v in dynamic.items()},
            OUTPUT: {0: "batch"},
        },
        opset_version=_OPSET,
        dynamo=False,
    )


def fuse_for_cpu(source: Path, target: Path, heads: int, hidden: int) -> None:
    """Fuse attention, GELU and residual LayerNorms with ORT's BERT optimiser."""
    _require_onnx()
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
    )
    fused.save_model_to_file(str(target))


# ORT's int8 matmul (uint8 activations x int8 weights) adds pairs of products in 16 bits,
# which saturates on AVX2 CPUs without VNNI (this project's 2-core host): e5's worst
# passage cosine with float32 was 0.987 there. Weights at 7 bits (ORT's ``reduce_range``,
# its advice for such CPUs) cannot saturate and cost no speed: 0.998 (docs/benchmarks.md,
# "Encoder fidelity"). uint8 weights were as close but about 12% slower.
INT8_RECIPE = "s7"


def int8_graph_name(stem: str, *, questions: bool = False) -> str:
    """Cache file name of an int8 graph; the recipe in the name rebuilds older ones."""
    return f"{stem}-int8-{INT8_RECIPE}{'-questions' if questions else ''}.onnx"


def quantize_int8(
    source: Path, target: Path, intermediate: int, hidden: int, *, ffn_out: bool = False
) -> None:
    """Dynamic int8 quantisation of a fused graph, minus the FFN output matmuls.

    Those take the GELU output, whose outliers make one activation scale per tensor
    too coarse: quantising them too takes e5's mean cosine with float32 on questions
    from 0.9985 to 0.9959 and MiniLM's from 0.996 to 0.993 (``scripts/check_*``), for
    about 20% more speed on paragraphs and a third on a short question.
    ``ffn_out=True`` quantises them as well (the question graph, where that third is
    most of a search request's CPU). Gather (the word table) is not quantised either:
    it is a lookup, not arithmetic.
    """
    _require_onnx()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    shapes = {init.name: tuple(init.dims) for init in model.graph.initializer}
    excluded = [
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul" and shapes.get(node.input[1]) == (intermediate, hidden)
    ]
    quantize_dynamic(
        str(source),
        str(target),
        op_types_to_quantize=["MatMul", "Attention"],
        per_channel=True,
        weight_type=QuantType.QInt8,
        reduce_range=True,  # see INT8_RECIPE
        nodes_to_exclude=[] if ffn_out else excluded,
        # The fused contrib ops defeat shape inference; their outputs are float32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def ensure_bert_onnx(
    target: Path,
    bert_loader: Callable[[], BertModel],
    quantized: bool = True,
    *,
    ffn_out: bool = False,
) -> Path:
    """``target``, exported, fused (and quantised) from ``bert_loader()`` unless present.

    Every step writes to a temporary name that is renamed into place at the end, so
    an interrupted build is redone rather than half-used.

    Args:
        target: the ``.onnx`` file to produce.
        bert_loader: returns the float32 ``BertModel`` (only called when building).
        quantized: int8 matmuls, or the fused float32 graph.
        ffn_out: with ``quantized``, the FFN output matmuls in int8 too (see
            :func:`quantize_int8`).
    """
    if target.is_file():
        return target
    logger.info("building %s from the PyTorch model (one-off, about a minute)", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    bert = bert_loader()
    config = bert.config
    tag = f"{target.stem}.tmp-{os.getpid()}"
    raw, fused = target.with_name(f".raw.{tag}.onnx"), target.with_name(f".fused.{tag}.onnx")
    try:
        export_fp32(bert, raw)
        fuse_for_cpu(raw, fused, int(config.num_attention_heads), int(config.hidden_size))
        if quantized:
            staging = target.with_name(f".int8.{tag}.onnx")
            quantize_int8(
                fused,
                staging,
                int(config.intermediate_size),
                int(config.hidden_size),
                ffn_out=ffn_out,
            )
            fsync_path(staging)
            os.replace(staging, target)
        else:
            fsync_path(fused)
            os.replace(fused, target)
    finally:
        for leftover in target.parent.glob(f".*.{tag}*"):
            leftover.unlink(missing_ok=True)
    return target


def with_token_states(graph: Path) -> Path:
    """A copy of ``graph`` that also outputs the token states it pools (built once).

    The masked mean at the end of the graph reads the last layer's states; they become a
    second output, ``states``, so one passage pass gives the passage vector (``pooled``,
    the same nodes as before, so the same numbers) and the states sentence vectors are
    pooled from (``index.encoders.sentence_pooling``). Written beside ``graph`` as
    ``<stem>.states.onnx``; external data (a shared word table) stays external.

    Raises:
        DocqaError: ``graph`` does not end in the pooling this module exports.
    """
    target = graph.with_name(f"{graph.stem}.states.onnx")
    if target.is_file():
        return target
    _require_onnx()
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    producers = {out: node for node in model.graph.node for out in node.output}
    try:
        # pooled = ReduceSum(Mul(states, mask)) / ReduceSum(mask)
        total = producers[producers[OUTPUT].input[0]]
        masked = producers[total.input[0]]
        states = next(i for i in masked.input if producers[i].op_type.endswith("Normalization"))
    except (KeyError, StopIteration) as exc:
        raise DocqaError(f"{graph} does not end in mean pooling: delete it to rebuild") from exc
    hidden = model.graph.output[0].type.tensor_type.shape.dim[1]
    output = onnx.helper.make_tensor_value_info(
        STATES, onnx.TensorProto.FLOAT, ["batch", "sequence", hidden.dim_value or "hidden"]
    )
    model.graph.output.append(output)
    model.graph.node.append(onnx.helper.make_node("Identity", [states], [STATES]))
    with atomic_file(target) as staging:
        onnx.save(model, str(staging))
    return target
