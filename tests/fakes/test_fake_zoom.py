"""Tests of the fake Zoom itself, with plain ``requests`` against its real HTTP server."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import struct
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.fakes.zoom import DAILY_LIMIT_MESSAGE, SPEC_PATH, FakeUser, FakeZoom
from tests.fakes.zoom_fixture import check_no_violations, fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below

REDIRECT = "http://localhost/oauth/zoom/callback"


# ------------------------------------------------------------------------------ helpers


def pkce_pair(method: str) -> tuple[str, str]:
    """A (verifier, challenge) pair for ``S256`` or ``plain``."""
    verifier = base64.urlsafe_b64encode(b"v" * 48).rstrip(b"=").decode()
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    fz: FakeZoom, challenge: str | None = None, method: str | None = None, **extra: str
) -> requests.Response:
    """Follow the authorise URL like a browser (without following the redirect)."""
    params = {
        "response_type": "code",
        "client_id": fz.client_id,
        "redirect_uri": REDIRECT,
        "state": "s-123",
    }
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    params.update(extra)
    return requests.get(f"{fz.oauth_url}/oauth/authorize", params=params, allow_redirects=False)


def code_from(response: requests.Response) -> str:
    """The ``code`` of an authorise redirect."""
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def token_request(fz: FakeZoom, auth: tuple[str, str] | None = None, **form: str) -> Any:
    """POST /oauth/token with Basic auth and a form body."""
    return requests.post(
        f"{fz.oauth_url}/oauth/token", auth=auth or (fz.client_id, fz.client_secret), data=form
    )


def login(fz: FakeZoom) -> dict[str, Any]:
    """Run the whole authorisation-code flow (PKCE S256) and return the token answer."""
    verifier, challenge = pkce_pair("S256")
    code = code_from(authorize(fz, challenge, "S256"))
    r = token_request(
        fz,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def bearer(token: str | dict[str, Any]) -> dict[str, str]:
    """Authorization header for an access token (or a token answer)."""
    value = token["access_token"] if isinstance(token, dict) else token
    return {"Authorization": f"Bearer {value}"}


def create(fz: FakeZoom, token: dict[str, Any], **body: Any) -> requests.Response:
    """POST /users/me/meetings."""
    payload = {"topic": "Mentoring", "type": 2, "start_time": "2031-03-01T10:00:00Z", **body}
    return requests.post(f"{fz.api_url}/users/me/meetings", headers=bearer(token), json=payload)


def double_encode(uuid: str) -> str:
    """Double URL-encoding of a meeting UUID (spec, NOTES §3)."""
    return quote(quote(uuid, safe=""), safe="")


def decrypt_app_context(header: str, client_secret: str) -> dict[str, Any]:
    """NOTES §5.1's decryption algorithm, written out independently of the fake."""
    raw = base64.urlsafe_b64decode(
        header.replace("+", "-").replace("/", "_") + "=" * (-len(header) % 4)
    )
    n = raw[0]
    iv = raw[1 : 1 + n]
    i = 1 + n
    (alen,) = struct.unpack_from("<H", raw, i)
    i += 2
    aad = raw[i : i + alen]
    i += alen
    (clen,) = struct.unpack_from("<i", raw, i)
    i += 4
    ct = raw[i : i + clen]
    tag = raw[i + clen :]
    key = hashlib.sha256(client_secret.encode()).digest()
    return dict(json.loads(AESGCM(key).decrypt(iv, ct + tag, aad)))


# ------------------------------------------------------------------------------ OAuth


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


# ------------------------------------------------------------------------------ meetings


def test_meeting_lifecycle_with_breakout_rooms(fake_zoom: FakeZoom) -> None:
    """Create, get, patch (rooms replaced) and delete a meeting."""
    tokens = login(fake_zoom)
    rooms = [{"name": "Room 1", "participants": ["a@example.com", "b@example.com"]}]
    r = create(
        fake_zoom,
        tokens,
        start_time="2031-03-01T12:00:00",
        timezone="Europe/Helsinki",
        settings={"waiting_room": True, "breakout_room": {"enable": True, "rooms": rooms}},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    mid = created["id"]
    assert isinstance(mid, int) and mid > 2**31 and len(str(mid)) > 10
    assert created["join_url"] and created["start_url"] and created["password"]
    assert "uuid" not in created  # NOTES §2.1: GET it
    assert created["start_time"] == "2031-03-01T10:00:00Z"  # local time converted to UTC
    assert created["settings"]["breakout_room"] == {"enable": True, "rooms": rooms}
    got = requests.get(f"{fake_zoom.api_url}/meetings/{mid}", headers=bearer(tokens)).json()
    assert got["uuid"] and got["status"] == "waiting" and got["host_id"]
    assert got["settings"]["join_before_host"] is False

    new_rooms = [{"name": "Room 2", "participants": ["c@example.com"]}]
    r = requests.patch(
        f"{fake_zoom.api_url}/meetings/{mid}",
        headers=bearer(tokens),
        json={"settings": {"breakout_room": {"enable": True, "rooms": new_rooms}}},
    )
    assert r.status_code == 204 and r.content == b""
    assert fake_zoom.meeting(mid)["settings"]["breakout_room"]["rooms"] == new_rooms
    assert fake_zoom.count("PATCH", "/v2/meetings/*") == 1

    r = requests.delete(f"{fake_zoom.api_url}/meetings/{mid}", headers=bearer(tokens))
    assert r.status_code == 204
    r = requests.delete(f"{fake_zoom.api_url}/meetings/{mid}", headers=bearer(tokens))
    assert r.status_code == 404
    assert r.json()["code"] == 3001


def test_wrong_body_type_is_a_violation(fake_zoom: FakeZoom) -> None:
    """A body off the schema is a violation and a Zoom validation error."""
    tokens = login(fake_zoom)
    r = create(fake_zoom, tokens, type="two")
    assert r.status_code == 400
    assert r.json() == {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": "type", "message": "Invalid field."}],
    }
    r = create(fake_zoom, tokens, password="far too long!")
    assert r.status_code == 400
    found = fake_zoom.take_violations()
    assert len(found) == 2
    assert found[0].startswith("POST /v2/users/me/meetings") and "'two'" in found[0]
    assert "password" in found[1]
    assert fake_zoom.meetings() == []


def test_body_must_be_a_json_object(fake_zoom: FakeZoom) -> None:
    """Meeting bodies must be JSON; a charset parameter is fine."""
    tokens = login(fake_zoom)
    url = f"{fake_zoom.api_url}/users/me/meetings"
    as_form = requests.post(url, headers=bearer(tokens), data={"type": "2"})
    broken = requests.post(
        url, headers={**bearer(tokens), "Content-Type": "application/json"}, data="{oops"
    )
    for r in (as_form, broken):
        assert r.status_code == 400
        assert r.json() == {"code": 300, "message": "Request Body should be a valid JSON object."}
    assert len(fake_zoom.take_violations()) == 2
    with_charset = requests.post(
        url,
        headers={**bearer(tokens), "Content-Type": "application/json; charset=utf-8"},
        data=json.dumps({"type": 2}),
    )
    assert with_charset.status_code == 201


def test_requests_off_the_spec_are_violations(fake_zoom: FakeZoom) -> None:
    """Missing token, unknown path, bad path and query parameters are caught."""
    tokens = login(fake_zoom)
    no_token = requests.post(f"{fake_zoom.api_url}/users/me/meetings", json={"type": 2})
    assert no_token.status_code == 401
    unknown = requests.get(f"{fake_zoom.api_url}/webinars/1", headers=bearer(tokens))
    assert unknown.status_code == 404
    not_int = requests.get(f"{fake_zoom.api_url}/meetings/abc", headers=bearer(tokens))
    assert not_int.status_code == 400
    too_big = requests.get(
        f"{fake_zoom.api_url}/past_meetings/1/participants",
        headers=bearer(tokens),
        params={"page_size": 500},
    )
    assert too_big.status_code == 400
    found = fake_zoom.take_violations()
    assert len(found) == 4, found
    assert "Security" in found[0]
    assert "PathNotFound" in found[1]
    assert "meetingId" in found[2]
    assert "page_size" in found[3]


def test_meetings_are_private_to_their_host(fake_zoom: FakeZoom) -> None:
    """Other users' meetings are refused (3000/3003) or hidden (3001)."""
    host = login(fake_zoom)
    mid = create(fake_zoom, host).json()["id"]
    fake_zoom.next_authorizing_user = fake_zoom.add_user(email="colleague@example.com")
    colleague = login(fake_zoom)
    r = requests.get(f"{fake_zoom.api_url}/meetings/{mid}", headers=bearer(colleague))
    assert r.status_code == 400
    r = requests.patch(
        f"{fake_zoom.api_url}/meetings/{mid}", headers=bearer(colleague), json={"topic": "x"}
    )
    assert r.status_code == 400 and r.json()["code"] == 3003
    fake_zoom.next_authorizing_user = fake_zoom.add_user(account_id="someOtherAccount")
    stranger = login(fake_zoom)
    r = requests.get(f"{fake_zoom.api_url}/meetings/{mid}", headers=bearer(stranger))
    assert r.status_code == 404 and r.json()["code"] == 3001
    listed = requests.get(f"{fake_zoom.api_url}/users/me/meetings", headers=bearer(stranger))
    assert listed.json()["meetings"] == []


def test_daily_create_update_limit(fake_zoom: FakeZoom) -> None:
    """The 101st create/update of a user in a UTC day gets Zoom's 429."""
    tokens = login(fake_zoom)
    mid = create(fake_zoom, tokens).json()["id"]
    with requests.Session() as s:
        s.headers.update(bearer(tokens))
        for _ in range(99):
            r = s.patch(f"{fake_zoom.api_url}/meetings/{mid}", json={"agenda": "a"})
            assert r.status_code == 204
        r = s.post(f"{fake_zoom.api_url}/users/me/meetings", json={"type": 2})
    assert r.status_code == 429
    assert r.json()["message"] == DAILY_LIMIT_MESSAGE.format(limit=100)
    assert "You have exceeded the daily rate limit (100)" in r.json()["message"]
    assert "Retry-After" not in r.headers and "X-RateLimit-Type" not in r.headers
    fake_zoom.next_authorizing_user = fake_zoom.add_user()
    assert create(fake_zoom, login(fake_zoom)).status_code == 201  # per user
    now = dt.datetime.fromtimestamp(fake_zoom.now(), dt.UTC)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=1)
    fake_zoom.advance((midnight - now).total_seconds())
    fresh = token_request(
        fake_zoom, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert create(fake_zoom, fresh).status_code == 201  # resets at 00:00 UTC


# ------------------------------------------------------------------------------ injections


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


# ------------------------------------------------------------------------------ past meetings


def test_past_participants_paging(fake_zoom: FakeZoom) -> None:
    """Past participants page with next_page_token, which expires in 15 minutes."""
    tokens = login(fake_zoom)
    mid = create(fake_zoom, tokens).json()["id"]
    uuid = fake_zoom.end_meeting(mid, [{"user_email": f"p{i}@example.com"} for i in range(65)])
    seen: list[str] = []
    url = f"{fake_zoom.api_url}/past_meetings/{mid}/participants"
    params: dict[str, Any] = {"page_size": 30}
    pages = 0
    while True:
        page = requests.get(url, headers=bearer(tokens), params=params).json()
        pages += 1
        seen += [p["user_email"] for p in page["participants"]]
        if not page["next_page_token"]:
            break
        params["next_page_token"] = page["next_page_token"]
    assert pages == 3 and page["total_records"] == 65
    assert seen == [f"p{i}@example.com" for i in range(65)]
    by_uuid = requests.get(
        f"{fake_zoom.api_url}/past_meetings/{double_encode(uuid)}/participants",
        headers=bearer(tokens),
    )
    assert by_uuid.json()["total_records"] == 65
    stale = dict(params)
    fake_zoom.advance(901)  # next_page_token lives 15 minutes (NOTES §3)
    fresh = token_request(
        fake_zoom, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert requests.get(url, headers=bearer(fresh), params=stale).status_code == 400


def test_past_participants_uuid_encoding(fake_zoom: FakeZoom) -> None:
    """UUIDs starting with '/' or holding '//' must arrive double-encoded."""
    tokens = login(fake_zoom)
    for uuid in ("/ab//cd+ef==", "ab/cd+ef==", "abcdEF12+/=="):
        fake_zoom.add_past_participants(uuid, [{"name": "A"}, {"name": "B"}])
        r = requests.get(
            f"{fake_zoom.api_url}/past_meetings/{double_encode(uuid)}/participants",
            headers=bearer(tokens),
        )
        assert r.status_code == 200, (uuid, r.text)
        assert [p["name"] for p in r.json()["participants"]] == ["A", "B"]
    # single encoding works unless the UUID begins with '/' or contains '//'
    ok = requests.get(
        f"{fake_zoom.api_url}/past_meetings/{quote('ab/cd+ef==', safe='')}/participants",
        headers=bearer(tokens),
    )
    assert ok.status_code == 200
    assert fake_zoom.take_violations() == []
    bad = requests.get(
        f"{fake_zoom.api_url}/past_meetings/{quote('/ab//cd+ef==', safe='')}/participants",
        headers=bearer(tokens),
    )
    assert bad.status_code == 404 and bad.json()["code"] == 3001
    found = fake_zoom.take_violations()
    assert len(found) == 1 and "double-encoded" in found[0]


def test_single_participant_is_hidden(fake_zoom: FakeZoom) -> None:
    """One-participant meetings list nobody; unknown meetings are 404."""
    tokens = login(fake_zoom)
    fake_zoom.add_past_participants(98765432101, [{"name": "Alone"}])
    r = requests.get(
        f"{fake_zoom.api_url}/past_meetings/98765432101/participants", headers=bearer(tokens)
    )
    assert r.json()["participants"] == []
    missing = requests.get(
        f"{fake_zoom.api_url}/past_meetings/11111111111/participants", headers=bearer(tokens)
    )
    assert missing.status_code == 404


def test_every_operation_answers_within_the_spec(fake_zoom: FakeZoom) -> None:
    """The fake's answers for all 11 operations match the spec."""
    tokens = login(fake_zoom)
    h = bearer(tokens)
    api = fake_zoom.api_url
    mid = create(fake_zoom, tokens, settings={"breakout_room": {"enable": False}}).json()["id"]
    assert requests.get(f"{api}/users/me/meetings", headers=h, params={"page_size": 1}).ok
    assert requests.get(f"{api}/meetings/{mid}", headers=h).ok
    assert requests.put(f"{api}/meetings/{mid}/status", headers=h, json={"action": "end"}).ok
    uuid = fake_zoom.end_meeting(mid, [{"name": "A"}, {"name": "B"}])
    for path in (
        f"/past_meetings/{mid}",
        f"/past_meetings/{double_encode(uuid)}",
        f"/past_meetings/{mid}/instances",
        f"/past_meetings/{mid}/participants",
        f"/report/meetings/{mid}",
        f"/report/meetings/{double_encode(uuid)}/participants",
    ):
        r = requests.get(api + path, headers=h)
        assert r.status_code == 200, (path, r.text)
    fake_zoom.start_meeting(mid)
    assert requests.delete(f"{api}/meetings/{mid}", headers=h).json()["code"] == 3002
    assert fake_zoom.self_violations == []


# ------------------------------------------------------------------------------ builders


def test_app_context_round_trip(fake_zoom: FakeZoom) -> None:
    """make_app_context output decrypts with NOTES §5.1's algorithm."""
    before = int(time.time() * 1000)
    header = fake_zoom.make_app_context(fake_zoom.client_secret, mid="mtg==", aad=b"zoom")
    ctx = decrypt_app_context(header, fake_zoom.client_secret)
    assert ctx["typ"] == "panel" and ctx["mid"] == "mtg=="
    assert ctx["uid"] == fake_zoom.default_user.id
    assert ctx["aud"] == fake_zoom.client_id and ctx["iss"] == "marketplace.zoom.us"
    assert ctx["exp"] - ctx["ts"] == 120_000 and ctx["ts"] >= before
    guest = fake_zoom.make_app_context(uid=None, urlsafe=True, exp_ms=1)
    ctx = decrypt_app_context(guest, fake_zoom.client_secret)
    assert "uid" not in ctx and ctx["exp"] == 1
    raw = base64.b64decode(header)
    assert raw[0] == 12  # iv length byte, then iv, aad length (uint16 LE) ...
    assert struct.unpack_from("<H", raw, 13)[0] == 4 and raw[15:19] == b"zoom"
    with pytest.raises(InvalidTag):
        decrypt_app_context(header, "another secret")


def test_webhook_signature_matches_notes(fake_zoom: FakeZoom) -> None:
    """sign_webhook and url_validation_answer follow NOTES §4."""
    body = b'{"event":"meeting.started","event_ts":1700000000000,"payload":{}}'
    headers = fake_zoom.sign_webhook(body, "whsecret", timestamp=1700000000)
    assert headers["x-zm-request-timestamp"] == "1700000000"
    mac = hmac.new(b"whsecret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-zm-signature"], "v0=" + mac)
    now_headers = fake_zoom.sign_webhook(body, "whsecret")
    assert abs(int(now_headers["x-zm-request-timestamp"]) - time.time()) < 5
    answer = FakeZoom.url_validation_answer("plain", "whsecret")
    expected = hmac.new(b"whsecret", b"plain", hashlib.sha256).hexdigest()
    assert answer == {"plainToken": "plain", "encryptedToken": expected}


# ------------------------------------------------------------------------------ the harness


def test_fixture_check_fails_on_violations(fake_zoom: FakeZoom) -> None:
    """The fixture's teardown check fails a test with violations."""
    requests.get(f"{fake_zoom.api_url}/meetings/1")  # no token: a violation
    with pytest.raises(pytest.fail.Exception, match="does not accept"):
        check_no_violations(fake_zoom)
    check_no_violations(fake_zoom)  # cleared


def test_reset_forgets_everything(fake_zoom: FakeZoom) -> None:
    """reset() keeps the port and forgets all state."""
    tokens = login(fake_zoom)
    create(fake_zoom, tokens)
    fake_zoom.inject("*", "*", status=500, times=None)
    port = fake_zoom.port
    fake_zoom.reset()
    assert fake_zoom.port == port and fake_zoom.meetings() == [] and fake_zoom.requests == []
    r = requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(tokens))
    assert r.status_code == 401


#: SHA-256 of shared/specs/zoom/meetings-openapi.json, the official extract the fake copies.
SHARED_SPEC_SHA256 = "726febca536f8d7b71970e064083445c79028f1027854cd885c896e1f6a7e1f7"


def test_vendored_spec_is_the_shared_copy() -> None:
    """The spec copy in tests/fakes is byte for byte the one in shared/specs/zoom."""
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SHARED_SPEC_SHA256
    shared = Path(__file__).resolve().parents[3] / "shared" / "specs" / "zoom"
    if (shared / "meetings-openapi.json").exists():  # beside the checkout in development
        assert SPEC_PATH.read_bytes() == (shared / "meetings-openapi.json").read_bytes()
