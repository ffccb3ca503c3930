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
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


class RawConnection:
    """A lean HTTP/1.1 keep-alive client for one closed-loop load client.

    httpx costs the load generator about 3 ms of CPU per request, and on a two-core
    machine the load generator shares the cores with the server it measures; this one
    writes a prebuilt request and reads a ``Content-Length`` response (what the docqa
    API sends), a fraction of that cost, as a C load tool such as wrk would.
    """

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise SystemExit(f"error: --client raw needs an http:// URL, got {url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def _exchange(self, request: bytes) -> int:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            await self.close()
            raise ValueError("the raw client needs a Content-Length response")
        await reader.readexactly(length)
        return status

    async def post(self, path: str, json_body: dict[str, object]) -> int:
        """Send one POST and return the response status."""
        payload = json.dumps(json_body).encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n{self._headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        # A reused keep-alive connection the server has closed fails at once: retry
        # that once on a new connection; a fresh connection's failure is the answer.
        retry = self._streams is not None
        while True:
            try:
                return await asyncio.wait_for(self._exchange(request), self._timeout)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                await self.close()
                if not retry:
                    raise
                retry = False
            except BaseException:
                await self.close()  # a half-read response must not poison the next request
                raise

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _httpx_post(http: Any, path: str, json_body: dict[str, object]) -> int:
    return int((await http.post(path, json=json_body)).status_code)


async def _client(
    post: Callable[[str, dict[str, object]], Awaitable[int]],
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
            status = await post(path, {**body, "query": query})
        except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
            errors[type(exc).__name__] += 1
            continue
        if status == 200:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors[f"HTTP {status}"] += 1


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
    raw = (
        [RawConnection(args.url, headers, args.timeout) for _ in range(args.clients)]
        if args.client == "raw"
        else []
    )
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, limits=limits, timeout=args.timeout
    ) as http:

        def poster(i: int) -> Callable[[str, dict[str, object]], Awaitable[int]]:
            if args.client == "raw":
                return raw[i].post
            return lambda p, b: _httpx_post(http, p, b)

        health = (await http.get("/health")).json()
        if args.warmup > 0:  # first requests pay for lazy loading; keep them out of the figures
            warm_until = time.monotonic() + args.warmup
            await _client(poster(0), path, body, queries, 0, warm_until, [], Counter())
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        started = time.monotonic()
        deadline = started + args.seconds
        step = max(1, len(queries) // args.clients)
        workers = [
            _client(poster(i), path, body, queries, i * step, deadline, latencies, errors)
            for i in range(args.clients)
        ]
        tasks = [*workers] + ([] if args.quiet else [_ticker(deadline, args.seconds, latencies)])
        try:
            # A hard stop: a hung server cannot keep the run past deadline + timeout.
            await asyncio.wait_for(asyncio.gather(*tasks), args.seconds + args.timeout + 5)
        finally:
            for connection in raw:
                await connection.close()
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
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="raw: a lean keep-alive HTTP/1.1 client (little CPU taken from a server on the "
        "same machine); httpx: the full client",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be 1..{MAX_CLIENTS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS:.0f}]")
    return args


def run_blocking(args: argparse.Namespace, queries: list[str]) -> Report:
    """:func:`run` on uvloop where it is installed (less client CPU), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run(args, queries))
    return uvloop.run(run(args, queries))


def main(argv: list[str] | None = None) -> Report:
    args = parse_args(argv)
    queries = list(args.query) + (read_queries(args.queries) if args.queries else [])
    report = run_blocking(args, queries or list(DEFAULT_QUERIES))
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
