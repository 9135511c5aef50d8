"""Tests of the fake Zoom's injected faults and its log of requests."""

from __future__ import annotations

import datetime as dt
import email.utils
import time

import pytest
import requests

from tests.fakes.zoom import FakeZoom
from tests.fakes.zoom_client import bearer, create, login, token_request
from tests.fakes.zoom_fixture import fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below


def test_inject_401_then_normal(fake_zoom: FakeZoom) -> None:
    """An injected 401 hits once, then requests go through."""
    tokens = login(fake_zoom)
    fake_zoom.inject("GET", "/v2/users/me/meetings", status=401)
    url = f"{fake_zoom.api_url}/users/me/meetings"
    first = requests.get(url, headers=bearer(tokens))
    assert first.status_code == 401
    assert first.json() == {"code": 124, "message": "Access token is expired."}
    assert requests.get(url, headers=bearer(tokens)).status_code == 200


@pytest.mark.parametrize("form", ["seconds", "date", "http-date"])
def test_inject_429_retry_after_forms(fake_zoom: FakeZoom, form: str) -> None:
    """Injected 429s carry Retry-After in seconds, ISO-8601 or HTTP-date form."""
    tokens = login(fake_zoom)
    fake_zoom.inject(
        "POST", "/v2/users/*/meetings", status=429, retry_after=form, retry_in=2, category="Medium"
    )
    r = create(fake_zoom, tokens)
    assert r.status_code == 429
    assert r.headers["X-RateLimit-Category"] == "Medium"
    value = r.headers["Retry-After"]
    if form == "seconds":
        assert value == "2"
        assert r.headers["X-RateLimit-Type"] == "QPS"
    elif form == "date":
        when = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        assert 0 < when.timestamp() - time.time() <= 4
        assert r.headers["X-RateLimit-Type"] == "Daily-limit"
    else:
        parsed = email.utils.parsedate_to_datetime(value)
        assert 0 < parsed.timestamp() - time.time() <= 4
    assert r.json()["code"] == 429
    assert fake_zoom.meetings() == []  # an injected answer does not reach the handler
    assert create(fake_zoom, tokens).status_code == 201


def test_inject_429_without_headers(fake_zoom: FakeZoom) -> None:
    """A 429 can come without any rate-limit headers."""
    tokens = login(fake_zoom)
    fake_zoom.inject("POST", "/v2/users/me/meetings", 429, rate_limit_type="", category="")
    r = create(fake_zoom, tokens)
    assert r.status_code == 429
    assert not any(h.lower().startswith(("x-ratelimit", "retry-after")) for h in r.headers)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_inject_server_errors(fake_zoom: FakeZoom, status: int) -> None:
    """Injected 5xx answers hit as many times as asked."""
    tokens = login(fake_zoom)
    fake_zoom.inject("*", "/v2/meetings/*", status=status, times=2)
    url = f"{fake_zoom.api_url}/meetings/123456789012"
    assert [requests.get(url, headers=bearer(tokens)).status_code for _ in range(3)] == [
        status,
        status,
        404,
    ]


def test_inject_on_token_endpoint(fake_zoom: FakeZoom) -> None:
    """Faults can be injected into the OAuth endpoints too."""
    tokens = login(fake_zoom)
    fake_zoom.inject("POST", "/oauth/token", status=503)
    r = token_request(fake_zoom, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/html")
    r = token_request(fake_zoom, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert r.status_code == 200  # the injected failure did not rotate the token


def test_slow_create_still_creates_the_meeting(fake_zoom: FakeZoom) -> None:
    """A create that times out on the client still creates the meeting."""
    tokens = login(fake_zoom)
    fake_zoom.inject("POST", "/v2/users/me/meetings", delay=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            f"{fake_zoom.api_url}/users/me/meetings",
            headers=bearer(tokens),
            json={"topic": "kollega:abc", "type": 2},
            timeout=0.2,
        )
    assert [m["topic"] for m in fake_zoom.meetings()] == ["kollega:abc"]
    listed = requests.get(f"{fake_zoom.api_url}/users/me/meetings", headers=bearer(tokens))
    assert [m["topic"] for m in listed.json()["meetings"]] == ["kollega:abc"]
    assert fake_zoom.count("POST", "/v2/users/me/meetings") == 1


def test_requests_are_recorded_without_secrets(fake_zoom: FakeZoom) -> None:
    """The request log keeps bodies and who called, not Authorization headers."""
    tokens = login(fake_zoom)
    create(fake_zoom, tokens, topic="logged")
    rec = fake_zoom.requests_to("POST", "/v2/users/me/meetings")[0]
    assert rec.json["topic"] == "logged"
    assert rec.status == 201
    assert rec.user_id == fake_zoom.default_user.id
    assert "Authorization" not in rec.headers and rec.auth_scheme == "bearer"
    token_rec = fake_zoom.requests_to("POST", "/oauth/token")[0]
    assert token_rec.client_id == fake_zoom.client_id
    assert token_rec.form["grant_type"] == "authorization_code"
