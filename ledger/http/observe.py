"""Requests observed: one JSON access-log line each (logger `tenge_ledger.http.access`, on
stderr) and Prometheus metrics (`/metrics`): requests by route and status, latencies, commands
by outcome, projection lag. Each process counts its own requests (one `serve` process per
scrape target; with `--workers N` a scrape reaches one worker)."""

from __future__ import annotations

import json
import logging
import sys
import time
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ACCESS_LOGGER = "tenge_ledger.http.access"

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("tenge_ledger_http_requests", "HTTP requests answered", ["method", "route", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("tenge_ledger_http_request_seconds", "time to answer an HTTP request", ["method", "route"],
                    registry=REGISTRY, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
COMMANDS = Counter("tenge_ledger_commands", "commands answered, by type and outcome", ["type", "outcome"],
                   registry=REGISTRY)
PROJECTION_LAG = Gauge("tenge_ledger_projection_lag_events",
                       "events recorded in the store and not yet applied to the projections", registry=REGISTRY)
STORE_POSITION = Gauge("tenge_ledger_store_position", "the store's last position", registry=REGISTRY)


def access_logger() -> logging.Logger:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def install_observation(app: FastAPI) -> None:
    """A plain ASGI middleware (no body buffering: batches and event streams pass through as they go)."""
    app.add_middleware(Observe)


class Observe:
    """Times each HTTP request, counts it, and logs one JSON line when its response is complete."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = access_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "(unmatched)")
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            state = scope.get("state") or {}
            client = scope.get("client")
            self.logger.info(json.dumps({
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "method": scope["method"],
                "path": scope["path"], "route": route, "status": status, "ms": round(elapsed * 1000, 2),
                "actor": state.get("actor"), "client": client[0] if client else None,
            }, ensure_ascii=False))
