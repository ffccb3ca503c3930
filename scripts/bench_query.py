"""/v1/search latency over HTTP: p50/p95/p99 per profile, index size and client count.

    python scripts/bench_query.py [DATA_DIR] [--profiles quality,fast] [--sizes 10000,100000]
        [--clients 1,8] [--seconds 20] [--workers 1] [--json OUT.json]

For each profile and size it builds (or reuses, from ``.cache/bench-query/``) an index,
starts ``uvicorn docqa.server:create_app`` on it with ``DOCQA_PROFILE`` set, and runs
``scripts/load_test.py``'s closed-loop clients (one asyncio process; its lean keep-alive
HTTP/1.1 client by default, ``--client httpx`` for httpx) with SQuAD
dev questions, ``top_k`` 5, the profile's default mode. The server really encodes
every question with the profile's encoders.

How the indexes are made, said plainly: passage texts are real (SQuAD dev paragraphs,
then windows of 1-3 consecutive sentences, then numbered copies of those to reach 100k),
so SQLite and BM25 hold real text. Passage and sentence *vectors* are not all real:
encoding 100k passages takes hours on two cores, so ``--real`` paragraphs are encoded
with the profile's encoders and every indexed text gets one of those vectors (picked by
a hash of the text) plus Gaussian noise, renormalised. Search cost does not depend on
what the vectors mean, and the noisy copies keep the real vectors' clustering for IVF.

The load generator's own CPU time is reported beside the figures: it shares the two
cores with the server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, ROOT, emit_json

CACHE = ROOT / ".cache" / "bench-query"
NOISE = 0.35  # norm of the noise relative to the unit base vector


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--profiles", default="quality,fast")
    parser.add_argument("--sizes", default="10000,100000", help="passages per index")
    parser.add_argument("--clients", default="1,8", help="concurrency levels")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--real", type=int, default=256, help="really encoded paragraphs")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="load_test.py's HTTP client"
    )
    parser.add_argument("--json", type=Path, default=None, help="write results JSON here")
    parser.add_argument("--build-only", action="store_true", help="build the indexes, no load")
    return parser.parse_args(argv)


def corpus_texts(data_dir: Path, size: int) -> dict[str, list[str]]:
    """``size`` distinct real-text passages grouped into documents."""
    import re

    sentence = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
    rows = []
    with open(data_dir / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rows.append((str(row.get("title") or "untitled"), " ".join(str(row["text"]).split())))
    base: list[tuple[str, str]] = list(rows)
    for width in (1, 2, 3):
        for title, text in rows:
            parts = [s for s in sentence.split(text) if s.strip()]
            base += [(title, " ".join(parts[i : i + width])) for i in range(len(parts) - width + 1)]
    unique = list(dict.fromkeys(base))
    docs: dict[str, list[str]] = {}
    total = copy = 0
    while total < size:
        for title, text in unique:
            # Copies get a number so they stay distinct passages (and distinct documents).
            docs.setdefault(f"{title} #{copy}", []).append(f"{text} ({copy})" if copy else text)
            total += 1
            if total >= size:
                break
        copy += 1
    return docs


class DerivedEncoder:
    """Stands in for a real encoder at index time: a real vector per hash bucket + noise."""

    def __init__(self, name: str, base: Any) -> None:
        self._name = name
        self._base = base

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return int(self._base.shape[1])

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> Any:
        import numpy as np

        from index.encoders.base import as_unit_vectors

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            rng = np.random.default_rng(seed)
            noise = rng.standard_normal(self.dimension).astype(np.float32)
            noise *= NOISE / np.linalg.norm(noise)
            out[row] = self._base[seed % len(self._base)] + noise
        return as_unit_vectors(out, self.dimension)

    def encode_queries(self, texts: list[str]) -> Any:
        return self.encode_passages(texts)


def build_index(data_dir: Path, profile: str, size: int, real: int) -> Path:
    from rich.console import Console

    from docqa.settings import Settings
    from docqa.wiring import ann_policy, load_encoders
    from index.lifecycle.generation import current_generation
    from index.lifecycle.writer import IndexWriter
    from index.models import DocumentInput

    target = CACHE / f"{profile}-{size}-real{real}"
    if current_generation(target) is not None:
        return target
    console = Console(stderr=True)
    settings = Settings(profile=profile)
    paragraphs = [t for texts in corpus_texts(data_dir, real).values() for t in texts][:real]
    console.print(f"{profile}: encoding {len(paragraphs)} real paragraphs")
    derived = [
        DerivedEncoder(e.name, e.encode_passages(paragraphs)) for e in load_encoders(settings)
    ]
    docs = corpus_texts(data_dir, size)
    console.print(f"{profile}: building {size} passages in {target}")
    started = time.perf_counter()
    with IndexWriter(
        target,
        derived,
        rebuild=True,
        batch_size=256,
        ann=ann_policy(settings),
        sentence_vectors=settings.sentence_vectors,
    ) as writer:
        for number, (title, texts) in enumerate(docs.items()):
            writer.upsert(DocumentInput(f"doc-{number}", "\n\n".join(texts), title, title))
        report = writer.commit()
    console.print(
        f"{profile}: {report.passages_total} passages in {time.perf_counter() - started:.0f} s"
    )
    return target


def serve(index_dir: Path, profile: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    import httpx

    env = {
        **os.environ,
        "DOCQA_PROFILE": profile,
        "DOCQA_INDEX_DIR": str(index_dir),
        "DOCQA_ANSWERS": "false",
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "docqa.server:create_app", "--factory"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"error: the server exited with {server.returncode}")
        time.sleep(1)
    server.terminate()
    raise SystemExit("error: the server did not start in 300 s")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server and its worker processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(c) for c in children.read_text().split())] if children.exists() else [pid]
    total = 0.0
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def measure(
    port: int, clients: int, seconds: float, warmup: float, queries: Path, client: str
) -> Any:
    import load_test

    args = load_test.parse_args(
        [f"http://127.0.0.1:{port}", "--clients", str(clients), "--seconds", str(seconds)]
        + ["--warmup", str(warmup), "--queries", str(queries), "--quiet", "--client", client]
    )
    cpu = time.process_time()
    report = load_test.run_blocking(args, load_test.read_queries(queries))
    return report, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    queries = args.data_dir / "queries.jsonl"
    rows: list[dict[str, Any]] = []
    for profile in args.profiles.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            index_dir = build_index(args.data_dir, profile, size, args.real)
            if args.build_only:
                continue
            server = serve(index_dir, profile, args.port, args.workers)
            try:
                for clients in (int(c) for c in args.clients.split(",")):
                    load_before = os.getloadavg()[0]
                    cpu_before = server_cpu_seconds(server.pid)
                    report, client_cpu = measure(
                        args.port, clients, args.seconds, args.warmup, queries, args.client
                    )
                    # Warm-up requests are in the CPU total but not in ``report.ok``.
                    server_cpu = server_cpu_seconds(server.pid) - cpu_before
                    served = report.ok + report.throughput_rps * args.warmup
                    row = {
                        "profile": profile,
                        "passages": size,
                        "clients": clients,
                        "client": args.client,
                        "workers": args.workers,
                        "requests": report.ok,
                        "errors": report.errors,
                        "throughput_rps": report.throughput_rps,
                        "p50_ms": report.p50_ms,
                        "p95_ms": report.p95_ms,
                        "p99_ms": report.p99_ms,
                        "load_generator_cpu_share": round(client_cpu / args.seconds, 2),
                        "server_cpu_ms_per_request": round(1000 * server_cpu / max(served, 1), 2),
                        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                    }
                    rows.append(row)
                    console.print(row)
            finally:
                server.terminate()
                server.wait(30)
    table = Table(title=f"/v1/search latency, {args.seconds:.0f} s per row, top_k 5")
    columns = ("profile", "passages", "clients", "p50 ms", "p95 ms", "p99 ms", "req/s")
    for column in (*columns, "server CPU ms/req", "client CPU", "load"):
        table.add_column(column, justify="left" if column == "profile" else "right")
    for row in rows:
        table.add_row(
            row["profile"],
            f"{row['passages']:,}",
            str(row["clients"]),
            f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            f"{row['throughput_rps']:.0f}",
            f"{row['server_cpu_ms_per_request']:.1f}",
            f"{row['load_generator_cpu_share']:.0%}",
            f"{row['load_average'][0]:.1f}",
        )
    Console(width=140).print(table)
    payload = {"cpu_count": os.cpu_count(), "real_paragraphs": args.real, "rows": rows}
    emit_json(payload, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
