"""The web process's health, readiness and metrics, and what every request leaves behind.

- `/healthz`: the process answers (no dependency is asked: a load balancer must not take every
  web process out because the database blinked).
- `/readyz`: the database answers at this code's schema head; Redis is reported too, but
  without it the web still serves (live servers read events from the database), so it does
  not make the process unready.
- `/metrics`: Prometheus figures for the operator (`metrics_allow` or `metrics_token`).

Every request gets an id (`X-Request-ID` from the proxy, or a new one) that its log lines
carry and its response returns, and is timed by route. A database that cannot be reached is
answered with 503 and `Retry-After` (problem+json on the API, a page elsewhere), not 500.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from companion.core.bus import RedisBus, get_bus
from companion.core.db import get_database, reading, schema_is_current, utcnow
from companion.core.errors import problem_response, unexpected_error, wants_problem_json
from companion.core.logs import new_request_id, request_id
from companion.core.metrics import (
    CONTENT_TYPE_LATEST,
    DatabaseCollector,
    key_fingerprint,
    may_read_metrics,
    observe_request,
    render_metrics,
    seconds_since,
)

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

#: Seconds a client is asked to wait when the database is away (a restart takes a few).
RETRY_AFTER = 5


@bp.route("/healthz")
def healthz() -> Response:
    """For load balancers: the process is alive and answering."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz() -> tuple[Response, int]:
    """Whether this process can serve: the database answers at the expected schema."""
    config = current_app.extensions["companion.config"]
    checks: dict[str, Any] = {}
    ready = True
    try:
        current, revision = schema_is_current(get_database())
        checks["database"] = "ok"
        checks["schema"] = revision
        if not current:
            checks["schema_current"] = False
            ready = False
    except DBAPIError as exc:
        checks["database"] = f"unavailable: {exc.__class__.__name__}"
        ready = False
    bus = get_bus(current_app._get_current_object())  # type: ignore[attr-defined]
    if isinstance(bus, RedisBus):
        checks["redis"] = _redis_state(bus)
    if may_read_metrics(config, request.remote_addr, request.headers.get("Authorization")):
        checks["key"] = key_fingerprint(current_app.config["SECRET_KEY"])
    checks["status"] = "ready" if ready else "not ready"
    response = jsonify(checks)
    if not ready:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response, 200 if ready else 503


def _redis_state(bus: RedisBus) -> str:
    import redis

    try:
        client = redis.Redis.from_url(bus.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"unavailable: {exc.__class__.__name__}"
    return "ok"


@bp.route("/metrics")
def metrics() -> Response:
    """Prometheus figures: this process's counters and the queues' state from the database."""
    config = current_app.extensions["companion.config"]
    if not may_read_metrics(config, request.remote_addr, request.headers.get("Authorization")):
        return Response("Not found\n", status=404, mimetype="text/plain")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    body = render_metrics(DatabaseCollector(lambda: queue_figures(app)))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def queue_figures(app: Flask) -> dict[str, Any]:
    """The outbox, the jobs, the workers and the mail server, as the database says."""
    from companion.core.jobs import Job
    from companion.core.leases import workers_alive
    from companion.core.mail import OutboxMessage, server_status

    config = app.extensions["companion.config"]
    now = utcnow()
    with reading(), get_database(app).session() as db:
        outbox = dict(
            db.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        oldest = db.scalar(
            select(func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_(("queued", "sending"))
            )
        )
        jobs = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        due = db.scalar(
            select(func.min(Job.run_at)).where(Job.status == "queued", Job.run_at <= now)
        )
        alive = len(workers_alive(db, config.worker_lease_seconds))
        mail = server_status(db)
    return {
        "outbox": {str(k): int(v) for k, v in outbox.items()},
        "outbox_oldest_age": seconds_since(oldest, now),
        "jobs": {str(k): int(v) for k, v in jobs.items()},
        "job_lag": seconds_since(due, now),
        "workers_alive": alive,
        "mail_server_down": mail.down,
    }


def database_unavailable(exc: Exception) -> Any:
    """503 with Retry-After for a database that cannot be reached (a restart, an outage)."""
    log.warning("The database is unavailable: %s", exc.__class__.__name__)
    title = _("Temporarily unavailable")
    detail = _("The service cannot reach its database just now. Please try again in a moment.")
    if wants_problem_json():
        response = problem_response(503, title, detail, type_slug="unavailable")
    else:
        from flask import render_template

        page = render_template("core/error.html", status=503, title=title, detail=detail)
        response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _is_outage(exc: DBAPIError) -> bool:
    """A lost or refused connection (not a constraint violation or a bad statement)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError | InterfaceError)


def init_app(app: Flask) -> None:
    """Request ids, timing by route, and 503 for database outages."""

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        rid = new_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = request_id.set(rid)
        g.request_id = rid

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        started = g.get("request_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            observe_request(
                request.method, route, response.status_code, time.perf_counter() - started
            )
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Any:
        if not _is_outage(exc):
            return unexpected_error(exc)
        return database_unavailable(exc)

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout) -> Any:
        return database_unavailable(exc)
