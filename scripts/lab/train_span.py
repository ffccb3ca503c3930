"""Train the span model's top encoder layers on the *training* SQuAD dev articles.

Usage::

    python -m scripts.lab.train_span ../shared/data/squad-v1.1-dev [--epochs 3]
        [--base minilm|e5] [--frozen-layers N]

The lower ``--frozen-layers`` layers of the base (see ``bases``) are frozen, so their
outputs are computed once and cached; only the upper layers and the span head run forward
and backward each step.
Held-out articles (see ``squad_data.split_titles``) are never read here. Lab code: it
lives under ``scripts/`` and is not installed with docqa; run it from the repository root.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from retriever.answer.bases import (
    BASES,
    DEFAULT_FROZEN,
    LEGACY_BASE,
    BaseEncoder,
    encoder_layers,
    hidden_size,
    load_base,
)
from retriever.answer.extractor import SpanExtractor
from retriever.answer.features import Window, token_targets
from retriever.answer.span_model import WEIGHTS_DIR, SpanModel
from retriever.answer.spans import pad_windows
from retriever.answer.weights_io import (
    HEAD_FILE,
    apply_layer_delta,
    layer_file,
    load_head,
    read_manifest,
    save_head,
    save_layer_delta,
    write_manifest,
)
from scripts.lab.squad_data import (
    SquadQuestion,
    load_squad,
    questions_for,
    split_titles,
    validation_titles,
)
from scripts.lab.squad_metrics import max_over_ground_truths
from scripts.lab.synthetic_roles import role_questions

#: Seed of the synthetic role questions a run checks itself on (training uses --seed).
SYNTHETIC_CHECK_SEED = 1_000_003
SYNTHETIC_CHECK_QUESTIONS = 400

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainExample:
    """A cached window: frozen-layer output plus its gold token spans."""

    hidden: torch.Tensor  # (tokens, hidden) float16
    ctx: torch.Tensor  # (tokens,) bool
    targets: tuple[tuple[int, int], ...]


def build_examples(
    base: BaseEncoder,
    frozen_layers: int,
    questions: list[SquadQuestion],
    limit: int | None = None,
    batch_size: int = 32,
) -> list[TrainExample]:
    """Tokenise the training questions and cache the frozen layers' output."""
    train = questions[:limit]
    windows = base.windows([q.question for q in train], [q.context for q in train])
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
    encoder = base.encoder
    out: list[TrainExample] = []
    all_layers = encoder_layers(encoder)
    # Only the frozen layers are needed here: run a truncated encoder.
    cast(Any, encoder).encoder.layer = nn.ModuleList(list(all_layers)[:frozen_layers])
    try:
        with torch.inference_mode():
            for lo in range(0, len(labelled), batch_size):
                chunk = labelled[lo : lo + batch_size]
                padded = pad_windows([w for w, _ in chunk], base.pad_id)
                ids, types, attn, ctx = (
                    torch.from_numpy(a)
                    for a in (
                        padded.input_ids,
                        padded.token_type_ids,
                        padded.attention_mask,
                        padded.context,
                    )
                )
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


def span_log_probs(logits: torch.Tensor, ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end log-probabilities over passage tokens: the differentiable form of
    :func:`retriever.answer.spans.span_log_probs`, for the training loss."""
    masked = logits.masked_fill(~ctx[:, :, None], -1e4)
    lp = torch.log_softmax(masked.float(), dim=1)
    return lp[:, :, 0], lp[:, :, 1]


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
    decay = max(1, total - warmup)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / decay))
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


def validation_f1(weights_dir: Path, questions: list[SquadQuestion]) -> float:
    """Token F1 (0-100) of the weights in ``weights_dir`` on ``questions``' gold paragraphs."""
    extractor = SpanExtractor(SpanModel.load(weights_dir))
    total = 0.0
    for q in questions:
        spans = extractor.extract(q.question, q.context)
        pred = spans.answer.text if spans.answer is not None else ""
        total += max_over_ground_truths(pred, list(q.answers), exact=False)
    return round(100 * total / max(len(questions), 1), 2)


def default_out(base: str) -> Path:
    """``weights/`` for MiniLM (the shipped default), ``weights_<base>/`` otherwise."""
    return WEIGHTS_DIR if base == "minilm" else WEIGHTS_DIR.with_name(f"weights_{base}")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--base", choices=BASES, default="minilm", help="encoder to fine-tune")
    parser.add_argument(
        "--frozen-layers", type=int, default=None, help="lower layers left as shipped"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="weights dir (default: weights/ or weights_BASE/)"
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="train questions (smoke runs)")
    parser.add_argument(
        "--val-every",
        type=int,
        default=8,
        help="every K-th training article is a validation article (0: none); the epoch "
        "with the best validation F1 is kept",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where each epoch's weights are kept (default: OUT.epochs beside OUT)",
    )
    parser.add_argument(
        "--squad-every",
        type=int,
        default=1,
        help="train on every K-th SQuAD training question (a replay share for a short run)",
    )
    parser.add_argument(
        "--squad-offset",
        type=int,
        default=0,
        help="start the every-K-th choice at this question (another share than a run before)",
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        help="add N synthetic who-holds-which-role questions (scripts/lab/synthetic_roles)",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start from these weights (a weights dir with the same trained layers)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    frozen = args.frozen_layers if args.frozen_layers is not None else DEFAULT_FROZEN[args.base]
    out_dir: Path = args.out or default_out(args.base)
    base = load_base(args.base)
    t0 = time.time()
    questions = load_squad(args.data_dir)
    train_titles, held_titles = split_titles([q.title for q in questions])
    val_titles = validation_titles(train_titles, args.val_every)
    fit_titles = [t for t in train_titles if t not in set(val_titles)]
    val_questions = questions_for(questions, val_titles)
    train_questions = questions_for(questions, fit_titles)[args.squad_offset :: args.squad_every]
    synthetic_check = []
    if args.synthetic:
        train_questions += role_questions(args.synthetic, args.seed)
        synthetic_check = role_questions(SYNTHETIC_CHECK_QUESTIONS, SYNTHETIC_CHECK_SEED)
        random.Random(args.seed).shuffle(train_questions)
    examples = build_examples(base, frozen, train_questions, args.limit)
    logger.info("cached %d windows in %.0fs", len(examples), time.time() - t0)
    base_layers = encoder_layers(base.encoder)
    trained = list(range(frozen, len(base_layers)))
    layers = nn.ModuleList([copy.deepcopy(base_layers[i]) for i in trained])
    hidden = hidden_size(base.encoder)
    head = nn.Linear(hidden, 2)
    nn.init.normal_(head.weight, std=0.02)
    nn.init.zeros_(head.bias)
    prior_epochs = 0
    if args.init_from is not None:
        prior = read_manifest(args.init_from)
        if prior.get("base", LEGACY_BASE) != args.base:
            raise SystemExit(f"{args.init_from} has another base than {args.base}")
        if prior["trained_layers"] != trained:
            raise SystemExit(
                f"{args.init_from} trained layers {prior['trained_layers']}, not {trained}"
            )
        for layer, index in zip(layers, trained, strict=True):
            apply_layer_delta(layer, args.init_from / layer_file(index))
        head = load_head(args.init_from / HEAD_FILE, hidden)
        prior_epochs = int(prior.get("total_epochs", prior["epochs_completed"]))
        logger.info("starting from %s (%d epochs already)", args.init_from, prior_epochs)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir: Path = args.work_dir or out_dir.with_name(out_dir.name + ".epochs")
    split = {
        "train_titles": fit_titles,
        "validation_titles": val_titles,
        "held_out_titles": held_titles,
    }
    val_scores: dict[int, float] = {}

    def save(epochs_done: int) -> None:
        # Every epoch is kept (a cut-short run still leaves usable weights); the epoch
        # with the best validation F1 is copied to OUT.
        epoch_dir = work_dir / f"epoch{epochs_done}"
        epoch_dir.mkdir(parents=True, exist_ok=True)
        for layer, index in zip(layers, trained, strict=True):
            save_layer_delta(layer, base_layers[index], epoch_dir / layer_file(index))
        save_head(head, epoch_dir / HEAD_FILE)
        (epoch_dir / "split.json").write_text(json.dumps(split, indent=2) + "\n", encoding="utf-8")
        manifest: dict[str, Any] = {
            "base": base.name,
            "base_model": base.description,
            "base_sha256": base.sha256,
            "trained_layers": trained,
            "frozen_layers": frozen,
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
            "squad_every": args.squad_every,
            "squad_offset": args.squad_offset,
            "synthetic": args.synthetic,
        }
        write_manifest(epoch_dir, manifest)
        if val_questions:
            val_scores[epochs_done] = validation_f1(epoch_dir, val_questions)
            logger.info("epoch %d validation F1 %.2f", epochs_done, val_scores[epochs_done])
            manifest["validation_f1"] = {str(e): f for e, f in sorted(val_scores.items())}
            manifest["validation_questions"] = len(val_questions)
            if synthetic_check:
                manifest["synthetic_check_f1"] = validation_f1(epoch_dir, synthetic_check)
                logger.info(
                    "epoch %d synthetic check F1 %.2f", epochs_done, manifest["synthetic_check_f1"]
                )
            write_manifest(epoch_dir, manifest)
        best = max(val_scores, key=lambda e: val_scores[e]) if val_scores else epochs_done
        if best == epochs_done:
            shutil.copytree(epoch_dir, out_dir, dirs_exist_ok=True)
            logger.info("epoch %d (best so far) saved to %s", epochs_done, out_dir)

    train(examples, layers, head, args.epochs, args.batch_size, args.lr, args.seed, save)
    logger.info("saved to %s", out_dir)


if __name__ == "__main__":
    main()
