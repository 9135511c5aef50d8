"""The Graph client: Retry-After in both forms, 503 and 5xx backoff, one refresh on 401,
timeouts, Graph's error codes in any casing, request-id logged and the token never.

The client's tokens come from the host's stored Microsoft connection (`tokens.access_token`):
refreshing means redeeming the refresh token at the fake identity platform, whose access
tokens are the only ones the fake Graph accepts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from companion.core.crypto import decrypt_secret
from companion.core.db import Db, utcnow
from integrations.teams.errors import GraphError, GraphUncertain, describe
from integrations.teams.graph import GraphClient, token_provider
from integrations.teams.tokens import ReconnectNeeded, access_token, connection_for
from tests.integrations.teams.conftest import TeamsFakes

LIST = "/v1.0/subscriptions"


@pytest.fixture()
def client(
    app: Flask, db: Db, teams: TeamsFakes, make_facilitator: Any, connect_teams: Any
) -> Iterator[Any]:
    """A client for a connected host, whose pauses are recorded instead of slept."""
    host = make_facilitator()
    connect_teams(host)
    pauses: list[float] = []
    with app.app_context(), force_locale("en"):
        config = app.extensions["companion.config"]
        graph = GraphClient(config, token_provider(db, config, host.id), sleep=pauses.append)
        graph.pauses = pauses  # type: ignore[attr-defined]
        graph.host_id = host.id  # type: ignore[attr-defined]
        graph.db = db  # type: ignore[attr-defined]
        yield graph


def test_429_with_retry_after_in_seconds_is_waited_out(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, 429, retry_after="seconds", retry_in=2)
    assert client.get("/subscriptions") == {"value": []}
    assert client.pauses == [2.0]
    assert [r.status for r in teams.graph.requests_to("GET", LIST)] == [429, 200]


def test_429_with_retry_after_as_an_http_date_is_waited_out(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, 429, retry_after="http-date", retry_in=2)
    assert client.get("/subscriptions") == {"value": []}
    [pause] = client.pauses
    assert 0 < pause <= 4


def test_a_long_retry_after_becomes_an_error_with_the_time(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, 429, retry_after="seconds", retry_in=600)
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.temporary and caught.value.retry_at is not None
    assert "asks to wait until" in caught.value.message
    assert client.pauses == []


def test_503_is_retried_with_backoff_and_then_given_up(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, 503, times=2)
    assert client.get("/subscriptions") == {"value": []}
    assert client.pauses == [0.01, 0.02]  # doubling from teams_backoff_seconds
    teams.graph.inject("GET", LIST, 503, times=None, retry_after="seconds", retry_in=1)
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.temporary and caught.value.status == 503
    assert "not answering properly right now (error 503)" in caught.value.message
    assert caught.value.code_is("ServiceNotAvailable")  # sent as "serviceNotAvailable"


def test_401_refreshes_the_token_once(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, 401)
    assert client.get("/subscriptions") == {"value": []}
    assert teams.identity.count("refresh") == 1
    teams.graph.inject("GET", LIST, 401, times=2)
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.reconnect
    assert teams.identity.count("refresh") == 2  # one more, not two


def test_an_expired_token_is_refreshed_and_the_refresh_token_replaced(
    client: Any, teams: TeamsFakes
) -> None:
    client.get("/subscriptions")
    connection = connection_for(client.db, client.host_id)
    assert connection is not None
    first_refresh = connection.refresh_token
    # Microsoft ended the token before Kollega's record of its expiry (NOTES §1.3).
    teams.graph.expire_tokens()
    assert client.get("/subscriptions") == {"value": []}
    assert [r.status for r in teams.graph.requests_to("GET", LIST)] == [200, 401, 200]
    assert teams.identity.count("refresh") == 1
    connection = connection_for(client.db, client.host_id)
    assert connection is not None and connection.refresh_token != first_refresh
    # The identity platform's replacement was kept: the old one is spent, the new one live.
    config = client.config
    assert not teams.identity.refresh_token_is_live(decrypt_secret(config, first_refresh))
    assert teams.identity.refresh_token_is_live(decrypt_secret(config, connection.refresh_token))


def test_a_token_near_its_expiry_is_refreshed_before_the_call(
    client: Any, teams: TeamsFakes
) -> None:
    connection = connection_for(client.db, client.host_id)
    assert connection is not None
    connection.expires_at = utcnow() + timedelta(minutes=2)  # inside REFRESH_MARGIN
    client.db.commit()
    assert client.get("/subscriptions") == {"value": []}
    assert [r.status for r in teams.graph.requests_to("GET", LIST)] == [200]
    assert teams.identity.count("refresh") == 1


def test_a_revoked_grant_asks_the_facilitator_to_connect_again(
    client: Any, teams: TeamsFakes
) -> None:
    teams.identity.revoke(teams.identity.default_account)
    teams.graph.expire_tokens()
    with pytest.raises(ReconnectNeeded) as caught:
        client.get("/subscriptions")
    assert caught.value.reconnect
    assert "Connect Microsoft 365 again" in caught.value.message
    connection = connection_for(client.db, client.host_id)
    assert connection is not None and connection.needs_reconnect


def test_a_slow_answer_times_out_and_is_retried(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, delay=1.5)  # beyond teams_timeout_seconds (1.0)
    assert client.get("/subscriptions") == {"value": []}
    assert client.pauses == [0.01]
    # A write that may not be repeated is reported as uncertain instead.
    teams.graph.inject("POST", LIST, delay=1.5)
    body = {"changeType": "updated", "notificationUrl": "https://x.example/n",
            "resource": "me/events", "expirationDateTime": "2000-01-01T00:00:00Z"}  # fmt: skip
    with pytest.raises(GraphUncertain):
        client.request("POST", "/subscriptions", json=body, may_duplicate=True)
    teams.graph.take_violations()  # the expiry in the past is refused; not the point here


def test_error_codes_are_compared_in_any_casing(client: Any, teams: TeamsFakes) -> None:
    teams.graph.inject("GET", LIST, 404, code="ERRORITEMNOTFOUND")
    with pytest.raises(GraphError) as caught:
        client.get("/subscriptions")
    assert caught.value.code_is("ErrorItemNotFound")
    assert "no longer exists in Teams or Outlook" in caught.value.message


def test_the_request_id_is_logged_and_the_token_is_not(
    client: Any, teams: TeamsFakes, caplog: pytest.LogCaptureFixture
) -> None:
    teams.graph.inject("GET", LIST, 500)
    with caplog.at_level(logging.WARNING, logger="integrations.teams.graph"):
        client.get("/subscriptions")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "request-id" in text and "500" in text
    token = access_token(client.db, client.host_id, config=client.config)
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
    app: Flask, db: Any, teams: TeamsFakes, make_facilitator: Any, connect_teams: Any,
    teams_programme: Any, teams_session: Any,
) -> None:  # fmt: skip
    host = make_facilitator()
    account = teams.identity.add_account(name="Ilman Postia", upn="ilman@kollega-test.fi")
    connect_teams(host, account)
    teams.graph.no_mailbox.add(teams.user_of(account).id)
    session = teams_session(teams_programme(host).groups[0], host)
    row = session.rooms[0]
    assert row.status == "failed"
    assert "no Outlook mailbox" in row.data["error"]
