"""Connecting a Microsoft 365 account and signing in with Microsoft, through the fake identity
platform's authorise and token endpoints (code + PKCE S256 + nonce + state)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from companion.core.crypto import decrypt_secret
from companion.core.db import Db
from integrations.teams.models import TeamsConnection
from tests.fakes.microsoft_identity import FakeMicrosoftIdentity
from tests.integrations.teams.conftest import follow_microsoft


def _connection(db: Db, facilitator: Any) -> TeamsConnection | None:
    db.rollback()
    return db.query(TeamsConnection).filter_by(facilitator_id=facilitator.id).one_or_none()


def test_connect_stores_the_account_and_encrypted_tokens(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
    microsoft: FakeMicrosoftIdentity,
) -> None:
    facilitator = make_facilitator(email="fiona@kollega.example")
    sign_in(client, facilitator)
    started = client.post("/integrations/teams/connect")
    asked = parse_qs(urlsplit(started.headers["Location"]).query)
    # NOTES §1.1: authorisation code with PKCE S256, a nonce and a state, work accounts.
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["nonce"][0] and asked["state"][0]
    assert "/organizations/oauth2/v2.0/authorize" in started.headers["Location"]
    done = follow_microsoft(client, started)
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/integrations/teams/connection")

    row = _connection(db, facilitator)
    assert row is not None
    account = microsoft.default_account
    assert (row.tenant_id, row.object_id) == (account.tenant_id, account.object_id)
    assert row.upn == account.upn and not row.needs_reconnect
    assert "Calendars.ReadWrite" in row.scopes
    # Encrypted at rest: the stored values are not the tokens, and decrypt to live ones.
    refresh = decrypt_secret(app.extensions["companion.config"], row.refresh_token)
    assert refresh not in row.refresh_token and microsoft.refresh_token_is_live(refresh)
    page = client.get("/integrations/teams/connection?lang=en").get_data(as_text=True)
    assert account.upn in page and "Connected" in page


def test_a_cancelled_consent_connects_nothing_and_says_so(
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
    microsoft: FakeMicrosoftIdentity,
) -> None:
    facilitator = make_facilitator()
    sign_in(client, facilitator)
    microsoft.authorize_error = "access_denied"
    follow_microsoft(client, client.post("/integrations/teams/connect"))
    page = client.get("/integrations/teams/connection?lang=en").get_data(as_text=True)
    assert "the permissions were not given" in page
    assert _connection(db, facilitator) is None


def test_a_forged_state_is_refused(
    client: FlaskClient, sign_in: Any, make_facilitator: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    sign_in(client, make_facilitator())
    client.post("/integrations/teams/connect")
    answer = client.get("/integrations/teams/callback?code=abc&state=not-ours&lang=en")
    assert answer.status_code == 422
    assert microsoft.count("token") == 0


def test_an_account_connected_by_someone_else_is_refused(
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
    connect_teams: Any,
    microsoft: FakeMicrosoftIdentity,
) -> None:
    connect_teams(make_facilitator())
    other = make_facilitator()
    sign_in(client, other)
    follow_microsoft(client, client.post("/integrations/teams/connect"))
    page = client.get("/integrations/teams/connection?lang=en").get_data(as_text=True)
    assert "already connected to another Kollega account" in page
    assert _connection(db, other) is None


def test_first_sign_in_links_by_verified_email_then_by_tenant_and_object_id(
    db: Db,
    client: FlaskClient,
    make_facilitator: Any,
    microsoft: FakeMicrosoftIdentity,
) -> None:
    facilitator = make_facilitator(email="fiona@contoso.example")
    microsoft.next_account = microsoft.default_account  # upn and email fiona@contoso.example
    done = follow_microsoft(client, client.get("/integrations/teams/sign-in?next=/programmes"))
    assert done.status_code == 303 and done.headers["Location"] == "/programmes"
    assert client.get("/programmes").status_code == 200  # signed in
    row = _connection(db, facilitator)
    assert row is not None and row.object_id == microsoft.default_account.object_id

    # The administrator renames the account: the username and email change, the ids do not.
    microsoft.default_account.upn = "fiona.facilitator@contoso.example"
    microsoft.default_account.email = "fiona.facilitator@contoso.example"
    other = client.application.test_client()
    done = follow_microsoft(other, other.get("/integrations/teams/sign-in"))
    assert done.status_code == 303 and done.headers["Location"] == "/programmes"
    row = _connection(db, facilitator)
    assert row is not None and row.upn == "fiona.facilitator@contoso.example"
    assert db.query(TeamsConnection).count() == 1


def test_sign_in_never_goes_by_username(
    db: Db,
    client: FlaskClient,
    make_facilitator: Any,
    connect_teams: Any,
    microsoft: FakeMicrosoftIdentity,
) -> None:
    # Someone in another tenant takes the connected person's username and email: they are a
    # different (tid, oid) and do not get in as that facilitator.
    facilitator = make_facilitator(email="fiona@contoso.example")
    connect_teams(facilitator)
    impostor = microsoft.add_account(
        name="Not Fiona",
        upn="fiona@contoso.example",
        tenant_id="0badc0de-0000-4000-8000-000000000666",
        email_verified=False,
    )
    microsoft.next_account = impostor
    follow_microsoft(client, client.get("/integrations/teams/sign-in"))
    page = client.get("/sign-in?lang=en").get_data(as_text=True)
    assert "Microsoft did not confirm the email address" in page
    assert client.get("/programmes").status_code in (302, 303)
    # Even with the email vouched for, the facilitator is already keyed on their own account.
    impostor.email_verified = True
    follow_microsoft(client, client.get("/integrations/teams/sign-in"))
    page = client.get("/sign-in?lang=en").get_data(as_text=True)
    assert "connected to another Microsoft 365 account" in page
    assert client.get("/programmes").status_code in (302, 303)
    row = _connection(db, facilitator)
    assert row is not None and row.object_id == microsoft.default_account.object_id


def test_an_unknown_person_is_refused_with_a_clear_message(
    db: Db, client: FlaskClient, make_facilitator: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    make_facilitator(email="someone.else@kollega.example")
    microsoft.next_account = microsoft.add_account(name="Stranger", upn="stranger@contoso.example")
    done = follow_microsoft(client, client.get("/integrations/teams/sign-in"))
    assert done.headers["Location"].endswith("/sign-in")
    page = client.get("/sign-in?lang=en").get_data(as_text=True)
    assert "There is no Kollega account for stranger@contoso.example" in page
    assert "by invitation" in page
    assert db.query(TeamsConnection).count() == 0
    assert client.get("/programmes").status_code in (302, 303)


def test_the_sign_in_page_offers_microsoft_only_when_set_up(
    client: FlaskClient, teams_config: Any
) -> None:
    teams_config(teams_client_id="", teams_client_secret="")
    assert "Sign in with Microsoft" not in client.get("/sign-in?lang=en").get_data(as_text=True)
    teams_config(
        teams_client_id="0a1b2c3d-0000-4000-8000-00000000c1d0", teams_client_secret="secret"
    )
    page = client.get("/sign-in?lang=en").get_data(as_text=True)
    assert "Sign in with Microsoft" in page
    assert "/integrations/teams/sign-in" in page


def test_sign_in_redirects_only_to_our_own_pages(
    client: FlaskClient, make_facilitator: Any, microsoft: FakeMicrosoftIdentity
) -> None:
    make_facilitator(email="fiona@contoso.example")
    done = follow_microsoft(client, client.get("/integrations/teams/sign-in?next=//evil.example/x"))
    assert done.headers["Location"] == "/programmes"


def test_disconnect_forgets_the_tokens(
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
    connect_teams: Any,
) -> None:
    facilitator = make_facilitator()
    connect_teams(facilitator)
    sign_in(client, facilitator)
    answer = client.post("/integrations/teams/disconnect")
    assert answer.status_code == 303
    assert _connection(db, facilitator) is None
    page = client.get("/integrations/teams/connection?lang=en").get_data(as_text=True)
    assert "Connect Microsoft 365" in page
