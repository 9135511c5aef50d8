"""Prometheus metrics (prometheus_client): what each process counts, and what the database says.

Each process counts its own: web request latency by route, live connections, subscriptions
and fan-out lag, Redis reconnects and dropped publishes. The state of the queues (outbox depth
and the age of its oldest message, job lag and failures, workers alive, the mail server) is
read from the database when /metrics is scraped, so any web process can answer it and the
workers need no port of their own.

Under gunicorn with several workers per process, prometheus_client's multiprocess mode
(its own `PROMETHEUS_MULTIPROC_DIR` variable, set by `deploy/gunicorn.conf.py`) sums what
the workers counted.

/metrics is for the operator: it answers only to the addresses in `metrics_allow` or to a
request carrying `metrics_token` as its bearer token.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from companion.config import Config

__all__ = ["CONTENT_TYPE_LATEST"]

#: Buckets (seconds) for request latency and fan-out lag: most land under 50 ms.
_FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram(
    "kollega_http_request_duration_seconds",
    "Time to answer a web request, by route (the URL rule, never the path itself).",
    ["method", "route"],
    buckets=_FAST_BUCKETS,
)
REQUEST_ERRORS = Counter(
    "kollega_http_server_errors",
    "Web requests answered with a 5xx status, by status.",
    ["status"],
)
LIVE_CONNECTIONS = Gauge(
    "kollega_live_connections",
    "Open WebSocket connections on this live process.",
    multiprocess_mode="livesum",
)
LIVE_SUBSCRIPTIONS = Gauge(
    "kollega_live_subscriptions",
    "Channel subscriptions on this live process.",
    multiprocess_mode="livesum",
)
FANOUT_LAG = Histogram(
    "kollega_live_fanout_lag_seconds",
    "From an event's commit to its broadcast by a live process.",
    buckets=_FAST_BUCKETS,
)
REDIS_RECONNECTS = Counter(
    "kollega_redis_reconnects",
    "Times this process's Redis bus reconnected after losing Redis.",
)
BUS_DROPPED = Counter(
    "kollega_bus_publish_dropped",
    "Live events not published on Redis (it was away or slow); live servers read them from "
    "the database instead.",
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one web request."""
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    if status >= 500:
        REQUEST_ERRORS.labels(str(status)).inc()


class DatabaseCollector(Collector):
    """Reads the queues' state from the database at each scrape."""

    def __init__(self, read: Any) -> None:
        #: A function returning the figures (see `queue_figures`), run at each scrape.
        self.read = read

    def collect(self) -> Iterator[Metric]:
        """The figures as gauges; nothing when the database cannot be read."""
        try:
            figures: dict[str, Any] = self.read()
        except Exception:
            yield GaugeMetricFamily("kollega_database_up", "The database answered.", value=0)
            return
        yield GaugeMetricFamily("kollega_database_up", "The database answered.", value=1)
        depth = GaugeMetricFamily(
            "kollega_outbox_messages", "Outbox messages by status.", labels=["status"]
        )
        for status, count in sorted(figures["outbox"].items()):
            depth.add_metric([status], count)
        yield depth
        yield GaugeMetricFamily(
            "kollega_outbox_oldest_age_seconds",
            "Age of the oldest message waiting to be sent (0 when none waits).",
            value=figures["outbox_oldest_age"],
        )
        jobs = GaugeMetricFamily("kollega_jobs", "Jobs by status.", labels=["status"])
        for status, count in sorted(figures["jobs"].items()):
            jobs.add_metric([status], count)
        yield jobs
        yield GaugeMetricFamily(
            "kollega_job_lag_seconds",
            "How long the oldest due job has waited for a worker (0 when none waits).",
            value=figures["job_lag"],
        )
        yield GaugeMetricFamily(
            "kollega_workers_alive",
            "Workers whose heartbeat is recent.",
            value=figures["workers_alive"],
        )
        yield GaugeMetricFamily(
            "kollega_mail_server_down",
            "1 while the SMTP server cannot be reached (delivery is backing off).",
            value=1 if figures["mail_server_down"] else 0,
        )


def render_metrics(extra: Collector | None = None) -> bytes:
    """This process's metrics (summed over gunicorn's workers), plus `extra`'s."""
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # prometheus_client's own
    if multiprocess_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        output = generate_latest(registry)
    else:
        output = generate_latest(REGISTRY)
    if extra is not None:
        own = CollectorRegistry()
        own.register(extra)
        output += generate_latest(own)
    return output


def may_read_metrics(config: Config, address: str | None, authorization: str | None) -> bool:
    """Whether a request from `address` with this Authorization header may read /metrics."""
    if config.metrics_token and authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), config.metrics_token.encode()
        ):
            return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    for part in (p.strip() for p in config.metrics_allow.split(",") if p.strip()):
        if ip in ipaddress.ip_network(part, strict=False):
            return True
    return False


def key_fingerprint(secret: str) -> str:
    """A short fingerprint of the secret key, to tell whether processes share one."""
    return hmac.new(secret.encode(), b"kollega key fingerprint", "sha256").hexdigest()[:12]


def seconds_since(moment: Any, now: Any) -> float:
    """Seconds from a stored datetime to now (0 for None)."""
    if moment is None:
        return 0.0
    delta: timedelta = now - moment
    return max(delta.total_seconds(), 0.0)


#: When this process started (for uptime in health answers).
STARTED = time.time()
