"""The Graph token store: refreshed near expiry, the replacement refresh token kept before the
new access token is used (NOTES §1.3), `invalid_grant` turned into "reconnect needed"."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session as SqlSession

from companion.config import Config
from companion.core.crypto import decrypt_secret
from companion.core.db import Db, get_database, utcnow
from companion.meetings.platform import PlatformError
from integrations.teams.models import TeamsConnection
from integrations.teams.tokens import (
    CredentialsRefused,
    MicrosoftUnavailable,
    ReconnectNeeded,
    access_token,
    connection_for,
)
from tests.fakes.microsoft_identity import FakeMicrosoftIdentity
from tests.integrations.teams.conftest import english, follow_microsoft


@pytest.fixture()
def connected(
    db: Db, make_facilitator: Any, connect_teams: Any, microsoft: FakeMicrosoftIdentity
) -> Any:
    facilitator = make_facilitator(email="fiona@contoso.example")
    connect_teams(facilitator)
    return facilitator


def _expire_soon(db: Db, facilitator: Any) -> None:
    row = connection_for(db, facilitator.id)
    assert row is not None
    row.expires_at = utcnow() + timedelta(minutes=1)
    db.commit()


def _stored(app: Flask, facilitator: Any) -> TeamsConnection:
    """The row as another process would read it (a session of its own)."""
    with SqlSession(get_database(app).engine) as other:
        row = other.query(TeamsConnection).filter_by(facilitator_id=facilitator.id).one()
        other.expunge(row)
        return row


def test_a_fresh_token_is_used_without_asking_microsoft(
    app: Flask, db: Db, connected: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    with english(app):
        token = access_token(db, connected.id)
    assert microsoft.account_for_access_token(token) is microsoft.default_account
    assert microsoft.count("token") == 0


def test_the_replacement_refresh_token_is_kept_before_the_new_token_is_used(
    app: Flask,
    db: Db,
    connected: Any,
    microsoft: FakeMicrosoftIdentity,
    config: Callable[[], Config],
) -> None:
    _expire_soon(db, connected)
    before = decrypt_secret(config(), _stored(app, connected).refresh_token)
    with english(app):
        token = access_token(db, connected.id)
        # Whatever the caller does with its own transaction, the new refresh token stays.
        db.rollback()
    assert microsoft.account_for_access_token(token) is microsoft.default_account
    stored = _stored(app, connected)
    kept = decrypt_secret(config(), stored.refresh_token)
    assert kept != before and microsoft.refresh_token_is_live(kept)
    assert not microsoft.refresh_token_is_live(before)
    assert decrypt_secret(config(), stored.access_token) == token
    assert stored.expires_at is not None and stored.expires_at > utcnow() + timedelta(minutes=30)
    # The next refresh uses the kept token (the fake flags a refresh token used twice).
    _expire_soon(db, connected)
    with english(app):
        assert access_token(db, connected.id) != token
    assert microsoft.count("token") == 2


def test_a_token_graph_refused_is_refreshed_once(
    app: Flask, db: Db, connected: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    with english(app):
        refused = access_token(db, connected.id)
        renewed = access_token(db, connected.id, stale=refused)
        assert renewed != refused
        # Another caller that got the same 401 finds the renewed token already stored.
        assert access_token(db, connected.id, stale=refused) == renewed
    assert microsoft.count("token") == 1


def test_two_refreshing_at_once_ask_microsoft_once(
    app: Flask, db: Db, connected: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    _expire_soon(db, connected)
    tokens: list[str] = []
    start = threading.Barrier(2)

    def refresh() -> None:
        with app.app_context(), get_database(app).session() as own:
            start.wait()
            tokens.append(access_token(own, connected.id))

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    assert microsoft.count("token") == 1


def test_invalid_grant_means_reconnect_needed_shown_on_the_connection_page(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    connected: Any,
    microsoft: FakeMicrosoftIdentity,
) -> None:
    microsoft.revoke(microsoft.default_account)  # e.g. the password was changed
    _expire_soon(db, connected)
    with english(app), pytest.raises(ReconnectNeeded) as caught:
        access_token(db, connected.id)
    # The Graph side hands it on as a platform error the meetings code records on sessions.
    assert isinstance(caught.value, PlatformError) and caught.value.reconnect
    assert "Connect Microsoft 365 again" in caught.value.message
    stored = _stored(app, connected)
    assert stored.needs_reconnect and stored.refresh_token == "" and stored.access_token == ""
    assert stored.last_error == "invalid_grant"
    asked = microsoft.count("token")
    with english(app), pytest.raises(ReconnectNeeded):
        access_token(db, connected.id)
    assert microsoft.count("token") == asked  # no use asking again

    sign_in(client, connected)
    page = client.get("/integrations/teams/connection?lang=en").get_data(as_text=True)
    assert "Reconnect needed" in page
    assert "no longer accepts Kollega's access to fiona@contoso.example" in page
    # Connecting again clears it.
    follow_microsoft(client, client.post("/integrations/teams/connect"))
    db.rollback()
    assert not _stored(app, connected).needs_reconnect
    with english(app):
        assert access_token(db, connected.id)


def test_an_outage_is_temporary_and_keeps_the_connection(
    app: Flask, db: Db, connected: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    _expire_soon(db, connected)
    microsoft.token_error = (503, "temporarily_unavailable")
    with english(app), pytest.raises(MicrosoftUnavailable) as caught:
        access_token(db, connected.id)
    assert caught.value.temporary and "did not answer" in caught.value.message
    assert not _stored(app, connected).needs_reconnect
    microsoft.token_error = None
    with english(app):
        assert access_token(db, connected.id)


def test_wrong_app_credentials_are_the_administrators_to_fix(
    app: Flask,
    db: Db,
    connected: Any,
    microsoft: FakeMicrosoftIdentity,
    teams_config: Callable[..., Config],
) -> None:
    _expire_soon(db, connected)
    teams_config(teams_client_secret="an-expired-secret")
    with english(app), pytest.raises(CredentialsRefused) as caught:
        access_token(db, connected.id)
    assert "COMPANION_TEAMS_CLIENT_SECRET" in caught.value.message
    assert not caught.value.reconnect
    assert not _stored(app, connected).needs_reconnect


def test_without_a_connection_the_facilitator_is_told_to_connect(
    app: Flask, db: Db, make_facilitator: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    facilitator = make_facilitator()
    assert connection_for(db, facilitator.id) is None
    with english(app), pytest.raises(ReconnectNeeded) as caught:
        access_token(db, facilitator.id)
    assert "No Microsoft 365 account is connected" in caught.value.message
