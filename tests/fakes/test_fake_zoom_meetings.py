"""Tests of the fake Zoom's meetings: the spec checks, privacy and the daily limit."""

from __future__ import annotations

import datetime as dt
import json

import requests

from tests.fakes.zoom import DAILY_LIMIT_MESSAGE, FakeZoom
from tests.fakes.zoom_client import bearer, create, login, token_request
from tests.fakes.zoom_fixture import fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below


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
