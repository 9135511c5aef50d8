"""The web's health, readiness and metrics answers, request ids, and 503 for a lost database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Database
from companion.core.logs import JsonFormatter, request_id


def test_healthz_answers_without_asking_anything(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_readyz_checks_the_database_and_its_schema(client: FlaskClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ready" and body["database"] == "ok" and body["schema"]
    assert len(body["key"]) == 12  # the test client comes from 127.0.0.1, an allowed address
    elsewhere = client.get("/readyz", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_json()
    assert "key" not in elsewhere


def test_metrics_are_for_allowed_addresses_or_the_token(app: Flask, client: FlaskClient) -> None:
    client.get("/healthz")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.get_data(as_text=True)
    assert 'kollega_http_request_duration_seconds_count{method="GET",route="/healthz"}' in text
    assert "kollega_outbox_oldest_age_seconds" in text and "kollega_workers_alive" in text
    assert "kollega_database_up 1.0" in text
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    config = app.extensions["companion.config"]
    app.extensions["companion.config"] = config.model_copy(
        update={"metrics_token": "scrape-token-123456"}
    )
    try:
        bearer = {"Authorization": "Bearer scrape-token-123456"}
        assert client.get("/metrics", environ_base=outside, headers=bearer).status_code == 200
    finally:
        app.extensions["companion.config"] = config


def test_a_request_id_is_kept_from_the_proxy_or_made(client: FlaskClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-id-12345678"})
    assert kept.headers["X-Request-ID"] == "proxy-id-12345678"
    made = client.get("/healthz", headers={"X-Request-ID": "no spaces or <tags>"})
    assert made.headers["X-Request-ID"] != "no spaces or <tags>"
    assert len(made.headers["X-Request-ID"]) == 16


def test_json_logs_carry_the_request_id() -> None:
    token = request_id.set("abc123def456")
    try:
        record = logging.LogRecord("companion.x", logging.WARNING, "f", 1, "hei %s", ("x",), None)
        record.request_id = request_id.get()
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "hei x" and line["level"] == "WARNING"
    assert line["request_id"] == "abc123def456" and line["logger"] == "companion.x"


def test_a_lost_database_answers_503_with_retry_after(
    app: Flask,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    pytest.importorskip("psycopg")
    sign_in(client, make_facilitator())
    original = app.extensions["companion.db"]
    # A PostgreSQL nobody listens for: every connection is refused at once.
    app.extensions["companion.db"] = Database("postgresql+psycopg://kollega@127.0.0.1:1/none")
    try:
        page = client.get("/")
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "cannot reach its database" in page.get_data(as_text=True)
        api = client.get("/api/v1/programmes")
        assert api.status_code == 503 and api.mimetype == "application/problem+json"
        assert api.headers["Retry-After"] == "5"
        assert api.get_json()["type"].endswith("/unavailable")
        ready = app.test_client().get("/readyz")  # as a load balancer asks: no cookie
        assert ready.status_code == 503
        assert ready.get_json()["database"].startswith("unavailable")
        assert client.get("/healthz").status_code == 200  # alive all the same
    finally:
        app.extensions["companion.db"].dispose()
        app.extensions["companion.db"] = original
