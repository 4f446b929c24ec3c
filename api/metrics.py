"""Prometheus metrics: requests and latency by route template, plus gauges read when scraped.

Each app gets its own registry, so tests can build many apps in one process. With several uvicorn
workers every worker counts its own requests; set PROMETHEUS_MULTIPROC_DIR to aggregate them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routes import matched_route

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            MultiProcessCollector(self.registry)
        self.requests = Counter(
            "karmayogi_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "karmayogi_http_request_duration_seconds",
            "Time to answer, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.index_size = Gauge("karmayogi_index_vectors", "Courses in the loaded search index", registry=self.registry)
        self.catalog_sequence = Gauge(
            "karmayogi_catalog_sequence", "The last change in the catalog's change feed", registry=self.registry
        )
        self.applied_sequence = Gauge(
            "karmayogi_applied_sequence", "The last change this worker serves", registry=self.registry
        )
        self.behind_seconds = Gauge(
            "karmayogi_catalog_behind_seconds",
            "Age of the oldest change this worker does not serve yet",
            registry=self.registry,
        )
        self.job_units = Gauge(
            "karmayogi_translation_job_units",
            "Units of translation jobs by job and state",
            ["job", "state"],
            registry=self.registry,
        )
        self._refreshers: list[Callable[[Metrics], None]] = []

    def on_scrape(self, refresh: Callable[[Metrics], None]) -> None:
        """Run `refresh` before each scrape, to set gauges from the current state."""
        self._refreshers.append(refresh)

    def render(self) -> bytes:
        for refresh in self._refreshers:
            refresh(self)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request under its route template (`/v1/courses/{identifier}`), never the raw path, and its
    method; every label comes from a closed set, so no client can add series: an unknown path is `other`, and so
    is a method outside `METHODS` (`curl -X M0001 /healthz` counts as `other /healthz 405`)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        matched = matched_route(scope)  # before the router runs: a mount changes the scope's path
        route = matched.template if matched is not None else OTHER
        method = scope["method"] if scope["method"] in METHODS else OTHER
        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
