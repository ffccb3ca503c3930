"""``docqa index`` against a bare sentence-transformers MiniLM encode, whole processes.

    python scripts/bench_index_vs_encode.py [DATA_DIR] [--paragraphs 400] [--repeat 2]
        [--json OUT.json]

The first ``--paragraphs`` paragraphs of a BEIR corpus (SQuAD dev by default) are written
as one text file per article (``bench_ingest.write_corpus``). Two commands then run as
fresh processes, interleaved ``--repeat`` times so a change in the machine's load hits
both alike, each timed from start to exit (model loading included on both sides):

* ``docqa index DOCS --index-dir TMP --rebuild`` with the current settings (the
  ``quality`` profile by default: both encoders, sentence vectors, BM25, SQLite);
* a bare ``SentenceTransformer(all-MiniLM-L6-v2).encode`` of the same paragraph texts.

The ratio is docqa's paragraphs per second over the bare encode's (1.0: as fast as
encoding with MiniLM alone).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench_ingest import write_corpus
from common import DEFAULT_DATA, ROOT, emit_json, timed_run

_BARE = """
import sys
from pathlib import Path
from sentence_transformers import SentenceTransformer
from index.encoders.base import shipped_model_path
texts = [p.strip() for f in sorted(Path(sys.argv[1]).glob("*.txt"))
         for p in f.read_text(encoding="utf-8").split("\\n\\n") if p.strip()]
SentenceTransformer(str(shipped_model_path()), device="cpu").encode(texts, batch_size=32)
print(len(texts))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--paragraphs", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="docqa-index-vs-encode-"))
    documents = work / "docs"
    paragraphs = write_corpus(args.data_dir, args.paragraphs, documents)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    docqa = [sys.executable, "-c", "from docqa.cli import main; main()", "index", str(documents)]
    bare = [sys.executable, "-c", _BARE, str(documents)]
    seconds: dict[str, list[float]] = {"docqa index": [], "bare encode": []}
    load = [os.getloadavg()[0]]
    for round_ in range(args.repeat):
        target = work / f"index-{round_}"
        seconds["docqa index"].append(
            timed_run([*docqa, "--index-dir", str(target), "--rebuild"], env)
        )
        seconds["bare encode"].append(timed_run(bare, env))
        load.append(os.getloadavg()[0])
    docqa_s, bare_s = (statistics.median(seconds[k]) for k in ("docqa index", "bare encode"))
    emit_json(
        {
            "paragraphs": paragraphs,
            "seconds": {k: [round(s, 2) for s in v] for k, v in seconds.items()},
            "paragraphs_per_s": {
                "docqa index": round(paragraphs / docqa_s, 2),
                "bare encode": round(paragraphs / bare_s, 2),
            },
            "ratio_docqa_to_bare": round(bare_s / docqa_s, 3),
            "load_average": load,
            "profile": os.environ.get("DOCQA_PROFILE", "quality"),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
