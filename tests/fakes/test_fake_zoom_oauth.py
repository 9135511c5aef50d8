"""Tests of the fake Zoom's OAuth endpoints, with plain ``requests`` against its real server."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.zoom import FakeUser, FakeZoom
from tests.fakes.zoom_client import (
    REDIRECT,
    authorize,
    bearer,
    code_from,
    login,
    pkce_pair,
    token_request,
)
from tests.fakes.zoom_fixture import fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below


@pytest.mark.parametrize("method", ["S256", "plain", None])
def test_authorization_code_flow_with_pkce(fake_zoom: FakeZoom, method: str | None) -> None:
    """The authorisation-code flow works with PKCE S256, plain and an omitted method."""
    verifier, challenge = pkce_pair(method or "plain")  # omitted method means plain
    code = code_from(authorize(fake_zoom, challenge, method))
    r = token_request(
        fake_zoom,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["token_type"] == "bearer"
    assert answer["expires_in"] == 3599
    assert answer["refresh_token"] and answer["scope"]
    assert len(answer["access_token"]) > 255  # long JWT-like tokens, as Zoom's
    me = requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(answer))
    assert me.status_code == 200
    assert me.json()["id"] == fake_zoom.default_user.id
    assert fake_zoom.token_requests["authorization_code"] == 1


def test_pkce_wrong_verifier_and_code_single_use(fake_zoom: FakeZoom) -> None:
    """A wrong code_verifier is refused and a code works only once."""
    _, challenge = pkce_pair("S256")
    code = code_from(authorize(fake_zoom, challenge, "S256"))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    r = token_request(fake_zoom, **form, code_verifier="not-the-verifier")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    verifier, challenge = pkce_pair("S256")
    code = code_from(authorize(fake_zoom, challenge, "S256"))
    form["code"] = code
    assert token_request(fake_zoom, **form, code_verifier=verifier).status_code == 200
    again = token_request(fake_zoom, **form, code_verifier=verifier)  # single use
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_expires_after_five_minutes(fake_zoom: FakeZoom) -> None:
    """Authorisation codes die after 5 minutes (NOTES §1.1)."""
    code = code_from(authorize(fake_zoom))
    fake_zoom.advance(301)
    r = token_request(fake_zoom, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert r.status_code == 400


def test_token_redirect_uri_must_match(fake_zoom: FakeZoom) -> None:
    """The token request's redirect_uri must be the one used to authorise."""
    fake_zoom.redirect_uris.append("http://localhost/other")
    code = code_from(authorize(fake_zoom))
    r = token_request(
        fake_zoom,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost/other",
    )
    assert r.status_code == 400


def test_authorize_rejects_unknown_redirect_and_client(fake_zoom: FakeZoom) -> None:
    """Redirects off the allow list and unknown clients get Zoom's 4700 error."""
    r = authorize(fake_zoom, redirect_uri="https://evil.example/cb")
    assert r.status_code == 400
    assert r.json() == {
        "errorCode": 4700,
        "errorMessage": "Invalid redirect: https://evil.example/cb",
    }
    r = authorize(fake_zoom, client_id="nobody")
    assert r.status_code == 400
    assert r.json()["errorCode"] == 4700


def test_authorizing_user_is_settable_and_denial(fake_zoom: FakeZoom) -> None:
    """Tests choose who clicks 'Allow', or make the user refuse."""
    other = FakeUser(id="otherUser01", email="mentor@example.org", account_id="acct2")
    fake_zoom.next_authorizing_user = other
    me = requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(login(fake_zoom)))
    assert me.json()["email"] == "mentor@example.org"
    assert me.json()["account_id"] == "acct2"
    fake_zoom.deny_next_authorization = True
    r = authorize(fake_zoom)
    assert parse_qs(urlsplit(r.headers["Location"]).query)["error"] == ["access_denied"]


def test_refresh_rotates_and_invalidates_old_token(fake_zoom: FakeZoom) -> None:
    """Refreshing rotates the refresh token and kills the old one (NOTES §1.1)."""
    first = login(fake_zoom)
    r = token_request(fake_zoom, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = token_request(
        fake_zoom, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert reuse.status_code == 400
    assert reuse.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    r = token_request(fake_zoom, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert r.status_code == 200
    assert fake_zoom.token_requests["refresh_token"] == 3
    ok = requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(r.json()))
    assert ok.status_code == 200


def test_concurrent_refreshes_only_one_wins(fake_zoom: FakeZoom) -> None:
    """Racing refreshes with one token: one wins, the rest get invalid_grant."""
    refresh = login(fake_zoom)["refresh_token"]
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def go() -> None:
        barrier.wait()
        r = token_request(fake_zoom, grant_type="refresh_token", refresh_token=refresh)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=go) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 400, 400, 400, 400]
    assert fake_zoom.token_requests["refresh_token"] == 5
    assert [e["status"] for e in fake_zoom.token_log].count(200) == 2  # login + one refresh


def test_server_to_server_token(fake_zoom: FakeZoom) -> None:
    """account_credentials gives a token without refresh token, plus api_url."""
    r = requests.post(
        f"{fake_zoom.oauth_url}/oauth/token",
        params={"grant_type": "account_credentials", "account_id": fake_zoom.account_id},
        auth=(fake_zoom.s2s_client_id, fake_zoom.s2s_client_secret),
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert "refresh_token" not in answer
    assert answer["api_url"] == fake_zoom.base_url
    created = requests.post(
        f"{answer['api_url']}/v2/users/me/meetings", headers=bearer(answer), json={"type": 2}
    )
    assert created.status_code == 201
    bad = requests.post(
        f"{fake_zoom.oauth_url}/oauth/token",
        data={"grant_type": "account_credentials", "account_id": "wrong"},
        auth=(fake_zoom.s2s_client_id, fake_zoom.s2s_client_secret),
    )
    assert bad.status_code == 400


def test_revoke_kills_the_grant(fake_zoom: FakeZoom) -> None:
    """Revoking a token invalidates the user's access and refresh tokens."""
    tokens = login(fake_zoom)
    r = requests.post(
        f"{fake_zoom.oauth_url}/oauth/revoke",
        auth=(fake_zoom.client_id, fake_zoom.client_secret),
        data={"token": tokens["access_token"]},
    )
    assert r.json() == {"status": "success"}
    api = requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(tokens))
    assert api.status_code == 401
    assert api.json() == {"code": 124, "message": "Invalid access token."}
    refresh = token_request(
        fake_zoom, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refresh.status_code == 400


def test_oauth_requests_are_checked_by_hand(fake_zoom: FakeZoom) -> None:
    """Malformed OAuth requests are violations; bad credentials are not."""
    no_auth = requests.post(
        f"{fake_zoom.oauth_url}/oauth/token", data={"grant_type": "refresh_token"}
    )
    assert no_auth.status_code == 401
    as_json = requests.post(
        f"{fake_zoom.oauth_url}/oauth/token",
        auth=(fake_zoom.client_id, fake_zoom.client_secret),
        json={"grant_type": "refresh_token", "refresh_token": "x"},
    )
    assert as_json.status_code == 400
    no_state = authorize(fake_zoom, state="")
    assert no_state.status_code == 302
    wrong_secret = token_request(
        fake_zoom, auth=(fake_zoom.client_id, "nope"), grant_type="refresh_token", refresh_token="x"
    )
    assert wrong_secret.status_code == 401  # a wrong secret is behaviour, not a violation
    found = fake_zoom.take_violations()
    assert len(found) == 3, found
    assert "HTTP Basic" in found[0] and "refresh_token" in found[0]
    assert "x-www-form-urlencoded" in found[1]
    assert "state" in found[2]


def test_expired_and_unknown_access_tokens(fake_zoom: FakeZoom) -> None:
    """Expired and unknown tokens get Zoom's 401 code 124 answers."""
    tokens = login(fake_zoom)
    fake_zoom.expire_access_tokens()
    r = requests.get(f"{fake_zoom.api_url}/users/me/meetings", headers=bearer(tokens))
    assert r.status_code == 401
    assert r.json() == {"code": 124, "message": "Access token is expired."}
    fresh = token_request(
        fake_zoom, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(fresh)).ok
    fake_zoom.advance(3600)  # the clock also expires them
    r = requests.get(f"{fake_zoom.api_url}/users/me/meetings", headers=bearer(fresh))
    assert r.json()["message"] == "Access token is expired."
    r = requests.get(f"{fake_zoom.api_url}/users/me/meetings", headers=bearer("bogus"))
    assert r.json() == {"code": 124, "message": "Invalid access token."}
