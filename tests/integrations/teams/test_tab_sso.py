"""The meeting tab's SSO: the token TeamsJS `getAuthToken` gives (NOTES §4.4) is checked, its
user mapped to a facilitator or participant, the chat thread to a session, and the panel opens
with the same bearer token scheme as the Zoom App."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from companion.config import Config
from companion.core.db import Db
from integrations.teams.claims import sso_resource
from tests.fakes.microsoft_identity import (
    TEAMS_DESKTOP,
    TEAMS_WEB,
    FakeMicrosoftIdentity,
    MicrosoftAccount,
)

THREAD = "19:meeting_NDU2ZmY5ZDgtYTM2Mi00ODg4@thread.v2"
OTHER_TENANT = "0badc0de-0000-4000-8000-000000000666"


@pytest.fixture()
def world(
    db: Db,
    make_facilitator: Any,
    make_programme: Any,
    make_participant: Any,
    thread_session: Any,
    connect_teams: Any,
    microsoft: FakeMicrosoftIdentity,
) -> dict[str, Any]:
    facilitator = make_facilitator(email="fiona@kollega.example")
    connect_teams(facilitator)
    programme = make_programme(facilitator=facilitator)
    aino = make_participant(programme, name="Aino Aalto", email="aino@contoso.example")
    session = thread_session(programme.groups[0], THREAD)
    return {"facilitator": facilitator, "aino": aino, "session": session}


def _open(client: FlaskClient, token: str, **context: str) -> Any:
    body = {"token": token, "chat_id": THREAD, **context}
    return client.post("/integrations/teams/tab/open?lang=en", json=body)


def _board(client: FlaskClient, answer: Any, session_id: int) -> int:
    token = answer.get_json()["panel_url"].split("#token=", 1)[1]
    return client.get(
        f"/api/v1/sessions/{session_id}/board", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_the_facilitator_opens_the_panel_with_a_v2_token(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    account = microsoft.default_account
    token = microsoft.sso_token(account, client=TEAMS_WEB)
    answer = _open(client, token, user_id=account.object_id, tenant_id=account.tenant_id)
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert data["state"] == "open" and data["facilitator"] is True
    assert data["panel_url"].startswith(f"/panel/sessions/{world['session'].id}#token=")
    assert _board(client, answer, world["session"].id) == 200


def test_a_participant_is_found_by_email_with_a_v1_token(
    app: Flask,
    client: FlaskClient,
    world: dict[str, Any],
    microsoft: FakeMicrosoftIdentity,
    config: Callable[[], Config],
) -> None:
    # Same tenant as the facilitator's connection: its administrator owns the usernames.
    aino = microsoft.add_account(name="Aino Aalto", upn="Aino@Contoso.example")
    token = microsoft.sso_token(aino, version="1.0", resource=sso_resource(config()))
    answer = _open(client, token, user_id=aino.object_id)
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert data["state"] == "open" and data["facilitator"] is False
    assert _board(client, answer, world["session"].id) == 200


def test_the_thread_is_also_read_from_the_clients_meeting_id(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    # NOTES §4.2: the client's meeting.id is base64 of "0#<thread id>#0".
    meeting_id = base64.b64encode(f"0#{THREAD}#0".encode()).decode()
    token = microsoft.sso_token(microsoft.default_account)
    answer = client.post(
        "/integrations/teams/tab/open", json={"token": token, "meeting_id": meeting_id}
    )
    assert answer.status_code == 200 and answer.get_json()["state"] == "open"


def test_someone_kollega_does_not_know_is_asked_who_they_are(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    visitor = microsoft.add_account(name="Visitor", upn="visitor@contoso.example")
    answer = _open(client, microsoft.sso_token(visitor))
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["state"] == "identify" and data["panel_url"] == ""
    assert data["session_title"] == world["session"].title


def test_an_email_from_an_unknown_tenant_is_not_believed(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    # Anyone can name themselves aino@contoso.example in a tenant of their own.
    impostor = microsoft.add_account(
        upn="aino@contoso.example", tenant_id=OTHER_TENANT, email_verified=False
    )
    answer = _open(client, microsoft.sso_token(impostor))
    assert answer.get_json()["state"] == "identify"


def test_a_context_that_names_another_user_is_refused(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    visitor = microsoft.add_account(name="Visitor")
    token = microsoft.sso_token(visitor)
    answer = _open(client, token, user_id=microsoft.default_account.object_id)
    assert answer.status_code == 403
    assert "different user" in answer.get_json()["detail"]
    answer = _open(client, token, user_id=visitor.object_id, tenant_id=OTHER_TENANT)
    assert answer.status_code == 403


def test_a_meeting_kollega_did_not_make_is_not_found(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    token = microsoft.sso_token(microsoft.default_account)
    answer = client.post(
        "/integrations/teams/tab/open?lang=en",
        json={"token": token, "chat_id": "19:meeting_somethingelse@thread.v2"},
    )
    assert answer.status_code == 404
    assert "not a Kollega session" in answer.get_json()["detail"]


def _claims(microsoft: FakeMicrosoftIdentity, account: MicrosoftAccount) -> dict[str, Any]:
    return {
        "ver": "2.0",
        "iss": microsoft.issuer(account.tenant_id),
        "aud": microsoft.client_id,
        "azp": TEAMS_DESKTOP,
        "scp": "access_as_user",
        "tid": account.tenant_id,
        "oid": account.object_id,
        "exp": int(time.time()) + 600,
    }


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"exp": -3600}, "has expired"),
        ({"aud": "api://elsewhere.example/0a1b2c3d-0000-4000-8000-00000000c1d0"}, "Entra"),
        ({"azp": "11111111-1111-4111-8111-111111111111"}, "Entra"),  # not a Teams client
        ({"scp": "User.Read"}, "Entra"),  # no access_as_user
        ({"ver": "3.0"}, "Entra"),
        ({"iss": "https://sts.windows.net/0badc0de-0000-4000-8000-000000000666/"}, "verify"),
    ],
)
def test_bad_sso_tokens_are_refused_in_words(
    client: FlaskClient,
    world: dict[str, Any],
    microsoft: FakeMicrosoftIdentity,
    change: dict[str, Any],
    words: str,
) -> None:
    claims = _claims(microsoft, microsoft.default_account)
    for name, value in change.items():
        claims[name] = claims[name] + value if name == "exp" else value
    answer = _open(client, microsoft.sign(claims))
    assert answer.status_code == 403
    assert words in answer.get_json()["detail"]


def test_a_v1_token_must_be_for_our_api_and_from_a_teams_client(
    client: FlaskClient,
    world: dict[str, Any],
    microsoft: FakeMicrosoftIdentity,
    config: Callable[[], Config],
) -> None:
    account = microsoft.default_account
    wrong_audience = microsoft.sso_token(account, version="1.0", resource=microsoft.client_id)
    assert _open(client, wrong_audience).status_code == 403
    other_app = microsoft.sso_token(
        account, version="1.0", resource=sso_resource(config()), client=microsoft.client_id
    )
    assert _open(client, other_app).status_code == 403
    good = microsoft.sso_token(account, version="1.0", resource=sso_resource(config()))
    assert _open(client, good).status_code == 200


def test_a_single_tenant_setup_refuses_tokens_of_other_tenants(
    client: FlaskClient,
    world: dict[str, Any],
    microsoft: FakeMicrosoftIdentity,
    teams_config: Callable[..., Config],
) -> None:
    teams_config(teams_tenant=microsoft.tenant_id)
    guest = microsoft.add_account(upn="aino@contoso.example", tenant_id=OTHER_TENANT)
    answer = _open(client, microsoft.sso_token(guest))
    assert answer.status_code == 403
    assert "not the one this Kollega is set up for" in answer.get_json()["detail"]
    assert _open(client, microsoft.sso_token(microsoft.default_account)).status_code == 200


def test_a_new_signing_key_is_fetched_once(
    client: FlaskClient, world: dict[str, Any], microsoft: FakeMicrosoftIdentity
) -> None:
    account = microsoft.default_account
    assert _open(client, microsoft.sso_token(account)).status_code == 200
    fetched = microsoft.count("jwks")
    microsoft.rotate_keys(keep_old=True)
    assert _open(client, microsoft.sso_token(account)).status_code == 200
    assert microsoft.count("jwks") == fetched + 1
    stranger = RSAKey.generate_key(2048, parameters={"kid": "not-microsofts"})
    forged = microsoft.sign(_claims(microsoft, account), key=stranger)
    assert _open(client, forged).status_code == 403
    assert microsoft.count("jwks") == fetched + 2


def test_the_tab_pages_may_be_framed_by_teams_and_load_teamsjs_from_kollega(
    client: FlaskClient, microsoft: FakeMicrosoftIdentity
) -> None:
    for path in ("/integrations/teams/tab", "/integrations/teams/config"):
        answer = client.get(path)
        assert answer.status_code == 200
        policy = answer.headers["Content-Security-Policy"]
        assert "https://teams.microsoft.com" in policy.split("frame-ancestors", 1)[1]
        assert "X-Frame-Options" not in answer.headers
        page = answer.get_data(as_text=True)
        assert "/static/vendor/teams-js/MicrosoftTeams.min.js" in page
        assert "https://" not in page.split("<script", 1)[1].split(">", 1)[0]
    script = client.get("/static/vendor/teams-js/MicrosoftTeams.min.js")
    script.close()
    assert script.status_code == 200
