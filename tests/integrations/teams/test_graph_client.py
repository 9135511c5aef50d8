"""The Graph client: Retry-After in both forms, 503 and 5xx backoff, one refresh on 401,
timeouts, Graph's error codes in any casing, request-id logged and the token never."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from integrations.teams.errors import GraphError, GraphUncertain, describe
from integrations.teams.graph import GraphClient
from tests.integrations.teams.conftest import Hosts

LIST = "/v1.0/subscriptions"


@pytest.fixture()
def client(app: Flask, teams: Hosts, make_facilitator: Any, connect_graph: Any) -> Any:
    """A client for a connected host, whose pauses are recorded instead of slept."""
    host = make_facilitator()
    connect_graph(host)
    pauses: list[float] = []
    with app.app_context(), force_locale("en"):
        graph = GraphClient(
            app.extensions["companion.config"], teams.provider(host.id), sleep=pauses.append
        )
        graph.pauses = pauses  # type: ignore[attr-defined]
        graph.host_id = host.id  # type: ignore[attr-defined]
        yield graph


def test_429_with_retry_after_in_seconds_is_waited_out(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, 429, retry_after="seconds", retry_in=2)
    assert client.get("/subscriptions") == {"value": []}
    assert client.pauses == [2.0]
    assert [r.status for r in teams.fake.requests_to("GET", LIST)] == [429, 200]


def test_429_with_retry_after_as_an_http_date_is_waited_out(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, 429, retry_after="http-date", retry_in=2)
    assert client.get("/subscriptions") == {"value": []}
    [pause] = client.pauses
    assert 0 < pause <= 4


def test_a_long_retry_after_becomes_an_error_with_the_time(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, 429, retry_after="seconds", retry_in=600)
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.temporary and caught.value.retry_at is not None
    assert "asks to wait until" in caught.value.message
    assert client.pauses == []


def test_503_is_retried_with_backoff_and_then_given_up(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, 503, times=2)
    assert client.get("/subscriptions") == {"value": []}
    assert client.pauses == [0.01, 0.02]  # doubling from teams_backoff_seconds
    teams.fake.inject("GET", LIST, 503, times=None, retry_after="seconds", retry_in=1)
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.temporary and caught.value.status == 503
    assert "not answering properly right now (error 503)" in caught.value.message
    assert caught.value.code_is("ServiceNotAvailable")  # sent as "serviceNotAvailable"


def test_401_refreshes_the_token_once(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, 401)
    assert client.get("/subscriptions") == {"value": []}
    assert teams.refreshes == [client.host_id]
    teams.fake.inject("GET", LIST, 401, times=2)
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.reconnect
    assert teams.refreshes == [client.host_id, client.host_id]  # one more, not two


def test_an_expired_token_is_refreshed(client: Any, teams: Hosts) -> None:
    client.get("/subscriptions")
    teams.fake.expire_tokens()
    assert client.get("/subscriptions") == {"value": []}
    assert [r.status for r in teams.fake.requests_to("GET", LIST)] == [200, 401, 200]


def test_a_slow_answer_times_out_and_is_retried(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, delay=1.5)  # beyond teams_timeout_seconds (1.0)
    assert client.get("/subscriptions") == {"value": []}
    assert client.pauses == [0.01]
    # A write that may not be repeated is reported as uncertain instead.
    teams.fake.inject("POST", LIST, delay=1.5)
    body = {"changeType": "updated", "notificationUrl": "https://x.example/n",
            "resource": "me/events", "expirationDateTime": "2000-01-01T00:00:00Z"}  # fmt: skip
    with pytest.raises(GraphUncertain):
        client.request("POST", "/subscriptions", json=body, may_duplicate=True)
    teams.fake.take_violations()  # the expiry in the past is refused; not the point here


def test_error_codes_are_compared_in_any_casing(client: Any, teams: Hosts) -> None:
    teams.fake.inject("GET", LIST, 404, code="ERRORITEMNOTFOUND")
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.code_is("ErrorItemNotFound")
    assert "no longer exists in Teams or Outlook" in caught.value.message


def test_the_request_id_is_logged_and_the_token_is_not(
    client: Any, teams: Hosts, caplog: pytest.LogCaptureFixture
) -> None:
    teams.fake.inject("GET", LIST, 500)
    with caplog.at_level(logging.WARNING, logger="integrations.teams.graph"):
        client.get("/subscriptions")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "request-id" in text and "500" in text
    token = teams.current[client.host_id]
    assert token not in text and token[:40] not in text


def test_errors_are_in_the_facilitators_language(app: Flask) -> None:
    error = {"code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is inactive."}
    with app.app_context():
        with force_locale("fi"):
            finnish = describe(404, error).message
        with force_locale("en"):
            english_words = describe(404, error).message
    assert english_words.startswith("This Microsoft 365 account has no Outlook mailbox")
    assert finnish != english_words and "Microsoft 365" in finnish
    assert finnish.endswith("(Microsoft: The mailbox is inactive.)")


def test_an_account_without_a_mailbox_gets_words_on_the_session(
    app: Flask, db: Any, teams: Hosts, make_facilitator: Any, connect_graph: Any,
    teams_programme: Any, teams_session: Any,
) -> None:  # fmt: skip
    host = make_facilitator()
    user = connect_graph(host, teams.fake.add_user("Ilman Postia", "ilman@kollega-test.fi"))
    teams.fake.no_mailbox.add(user.id)
    session = teams_session(teams_programme(host).groups[0], host)
    row = session.rooms[0]
    assert row.status == "failed"
    assert "no Outlook mailbox" in row.data["error"]
