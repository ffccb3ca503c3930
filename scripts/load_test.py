"""Load-test a running docqa server: N concurrent clients for T seconds over HTTP.

Each client sends one request at a time (closed loop), cycling through the queries, until
the deadline; requests still in flight then get at most --timeout seconds. Reports
throughput, latency percentiles of successful requests and errors, as a table and JSON.

    .venv/bin/python scripts/load_test.py http://127.0.0.1:8000 --clients 8 --seconds 60 \\
        --queries ../shared/data/squad-v1.1-dev/queries.jsonl --json load.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MAX_CLIENTS = 256
MAX_SECONDS = 600.0
DEFAULT_QUERIES = (
    "Who signed the agreement?",
    "When was the library founded?",
    "What does the solar cooperative sell?",
)


@dataclass(frozen=True)
class Report:
    url: str
    endpoint: str
    clients: int
    seconds: float
    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    index_passages: int | None


def read_queries(path: Path) -> list[str]:
    """One question per line, or BEIR ``queries.jsonl`` (its ``text`` field)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        found.append(str(json.loads(line)["text"]) if line.startswith("{") else line)
    if not found:
        raise SystemExit(f"error: no queries in {path}")
    return found


def _percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return 0.0
    index = min(len(sorted_ms) - 1, max(0, round(q / 100 * (len(sorted_ms) - 1))))
    return round(sorted_ms[index], 2)


async def _client(
    http: Any,
    path: str,
    body: dict[str, object],
    queries: list[str],
    offset: int,
    deadline: float,
    latencies: list[float],
    errors: Counter[str],
) -> None:
    for query in itertools.islice(itertools.cycle(queries), offset, None):
        if time.monotonic() >= deadline:
            return
        started = time.perf_counter()
        try:
            response = await http.post(path, json={**body, "query": query})
        except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
            errors[type(exc).__name__] += 1
            continue
        if response.status_code == 200:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors[f"HTTP {response.status_code}"] += 1


async def _ticker(deadline: float, seconds: float, latencies: list[float]) -> None:
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("load", total=seconds)
        while (left := deadline - time.monotonic()) > 0:
            bar.update(task, completed=seconds - left, description=f"{len(latencies)} ok")
            await asyncio.sleep(0.5)


async def run(args: argparse.Namespace, queries: list[str]) -> Report:
    import httpx

    headers = {"authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    path = "/v1/search" if args.endpoint == "search" else "/v1/ask"
    body: dict[str, object] = {"top_k": args.top_k}
    if args.mode:
        body["mode"] = args.mode
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, limits=limits, timeout=args.timeout
    ) as http:
        health = (await http.get("/health")).json()
        if args.warmup > 0:  # first requests pay for lazy loading; keep them out of the figures
            warm_until = time.monotonic() + args.warmup
            await _client(http, path, body, queries, 0, warm_until, [], Counter())
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        started = time.monotonic()
        deadline = started + args.seconds
        step = max(1, len(queries) // args.clients)
        workers = [
            _client(http, path, body, queries, i * step, deadline, latencies, errors)
            for i in range(args.clients)
        ]
        tasks = [*workers] + ([] if args.quiet else [_ticker(deadline, args.seconds, latencies)])
        # A hard stop: a hung server cannot keep the run past deadline + timeout.
        await asyncio.wait_for(asyncio.gather(*tasks), args.seconds + args.timeout + 5)
        elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    total_errors = sum(errors.values())
    return Report(
        url=args.url,
        endpoint=path,
        clients=args.clients,
        seconds=round(elapsed, 2),
        requests=len(ordered) + total_errors,
        ok=len(ordered),
        errors=total_errors,
        error_kinds=dict(errors),
        throughput_rps=round(len(ordered) / elapsed, 2) if elapsed > 0 else 0.0,
        p50_ms=_percentile(ordered, 50),
        p95_ms=_percentile(ordered, 95),
        p99_ms=_percentile(ordered, 99),
        max_ms=round(ordered[-1], 2) if ordered else 0.0,
        mean_ms=round(sum(ordered) / len(ordered), 2) if ordered else 0.0,
        index_passages=health.get("passages"),
    )


def _print_table(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{report.endpoint} · {report.clients} clients · {report.seconds} s · "
        f"{report.index_passages} passages"
    )
    for column in ("requests", "ok", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    table.add_row(
        *map(
            str,
            (
                report.requests,
                report.ok,
                report.errors,
                report.throughput_rps,
                report.p50_ms,
                report.p95_ms,
                report.p99_ms,
                report.max_ms,
            ),
        )
    )
    Console(stderr=True).print(table)
    if report.error_kinds:
        Console(stderr=True).print(f"errors: {report.error_kinds}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000", help="server URL")
    parser.add_argument("--clients", type=int, default=8, help=f"1..{MAX_CLIENTS}")
    parser.add_argument("--seconds", type=float, default=60.0, help=f"up to {MAX_SECONDS:.0f}")
    parser.add_argument("--endpoint", choices=["search", "ask"], default="search")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--mode", choices=["dense", "lexical", "hybrid"], default=None)
    parser.add_argument("--queries", type=Path, help="file: one per line, or queries.jsonl")
    parser.add_argument("--query", action="append", default=[], help="a query (repeatable)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--api-key", default=None, help="sent as a bearer token")
    parser.add_argument("--json", type=Path, help="write the report as JSON here ('-': stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be 1..{MAX_CLIENTS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS:.0f}]")
    return args


def main(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    queries = list(args.query) + (read_queries(args.queries) if args.queries else [])
    report = asyncio.run(run(args, queries or list(DEFAULT_QUERIES)))
    _print_table(report)
    if args.json is not None:
        payload = json.dumps(asdict(report), indent=2)
        if str(args.json) == "-":
            sys.stdout.write(payload + "\n")
        else:
            args.json.write_text(payload + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
