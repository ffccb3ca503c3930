"""Prometheus metrics: requests and latency per route, and the size of the index.

Each app gets its own registry (several apps live in one test process), and routes
are labelled by their template (``/v1/documents/{document_id}``), never the raw path,
so label cardinality stays bounded whatever clients send.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class IndexSize:
    passages: int
    documents: int
    generation: int


IndexSizeProbe = Callable[[], IndexSize | None]


class _IndexCollector(Collector):
    """Reads the index size at scrape time, so it follows commits without bookkeeping."""

    def __init__(self, probe: IndexSizeProbe) -> None:
        self._probe = probe

    def collect(self) -> Iterator[Metric]:
        size = self._probe() or IndexSize(0, 0, 0)
        yield GaugeMetricFamily(
            "docqa_index_passages", "Passages in the served index.", value=size.passages
        )
        yield GaugeMetricFamily(
            "docqa_index_documents", "Documents in the served index.", value=size.documents
        )
        yield GaugeMetricFamily(
            "docqa_index_generation",
            "Generation of the served index (0: none).",
            value=size.generation,
        )


class Metrics:
    """The registry and the instruments the middleware updates."""

    def __init__(self, probe: IndexSizeProbe) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "docqa_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "docqa_http_request_duration_seconds",
            "Time from request to the last byte of the response, by route template.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_IndexCollector(probe))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def _route_label(scope: Scope) -> str:
    # A router included under two prefixes shares its route objects, so the matched
    # route's own path lacks the prefix; FastAPI keeps the full template in its
    # per-request context. Older FastAPI: the route's path is already the full one.
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class MetricsMiddleware:
    """Counts every HTTP request and times it until its response has been sent."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes before a response is sent

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = _route_label(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
