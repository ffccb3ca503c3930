"""Memory and latency of ``docqa serve`` and ``docqa search`` on an index (README figures).

Starts ``docqa serve`` in a subprocess, times start -> ``/health`` ok, asks one question
through ``/v1/ask`` (with ``--workers N``, then 8N more, 2N at a time, so that every
worker has loaded its reader), then reads the server's memory: RSS of the process (one worker) and
the PSS of the whole process tree (``--workers N``: pages shared through the page cache
are split between the processes that map them, so the sum is the unique memory). Then
times a cold ``docqa search --json`` (a new process) and the same search through the
running server (``--server URL``). Prints JSON with the machine's load average, since
the times depend on it and the memory does not.

    python scripts/bench_serve.py --index-dir /tmp/sample-index [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, emit_json, free_port, timed_run

_CLI = [sys.executable, "-c", "from docqa.cli import main; main()"]
QUESTION = "Who signed the transit agreement for the city?"


def _get(url: str, body: dict[str, object] | None = None) -> dict[str, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - local URL
        return dict(json.loads(response.read()))


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _kib(pid: int, path: str, key: str) -> int:
    for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _wait_health(url: str, proc: subprocess.Popen[bytes], limit: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if proc.poll() is not None:
            raise SystemExit(f"docqa serve exited with {proc.returncode}")
        try:
            if _get(url + "/health").get("status") == "ok":
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"/health not ok after {limit} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="Timed CLI searches per kind.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the report here.")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DOCQA_INDEX_DIR=str(args.index_dir))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*_CLI, "serve", "--port", str(port), "--workers", str(args.workers)]
    load_before = os.getloadavg()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        start_s = _wait_health(url, proc, 300.0)
        health = _get(url + "/health")
        answer = _get(url + "/v1/ask", {"query": QUESTION, "top_k": 3})
        answered = answer.get("answer")
        if args.workers > 1:
            # Several asks at once, so every worker (not only the first to accept) has
            # loaded its reader before the memory is read.
            with ThreadPoolExecutor(2 * args.workers) as pool:
                body = {"query": QUESTION, "top_k": 3}
                list(pool.map(lambda _: _get(url + "/v1/ask", body), range(8 * args.workers)))
        time.sleep(0.5)
        pids = _tree(proc.pid)
        rss = {pid: _kib(pid, "status", "VmRSS") for pid in pids}
        pss = {pid: _kib(pid, "smaps_rollup", "Pss") for pid in pids}
        search = [*_CLI, "search", QUESTION, "--json", "--index-dir", str(args.index_dir)]
        cold = [timed_run(search, env) for _ in range(args.repeat)]
        served = [timed_run([*search, "--server", url], env) for _ in range(args.repeat)]
        health_after = _get(url + "/health")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    emit_json(
        {
            "workers": args.workers,
            "start_to_health_s": round(start_s, 2),
            "health_at_start": health,
            "health_after_ask": health_after,
            "answer": answered,
            "server_rss_mb": round(max(rss.values()) / 1024, 1),
            "rss_mb_per_process": {str(k): round(v / 1024, 1) for k, v in rss.items()},
            "tree_pss_mb": round(sum(pss.values()) / 1024, 1),
            "search_cold_s": [round(t, 2) for t in cold],
            "search_via_server_s": [round(t, 2) for t in served],
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "cpus": os.cpu_count(),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
