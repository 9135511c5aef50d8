"""Tests of the fake Zoom's past meetings and reports, and of its answers against the spec."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from tests.fakes.zoom import FakeZoom
from tests.fakes.zoom_client import bearer, create, double_encode, login, token_request
from tests.fakes.zoom_fixture import fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below


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


def test_a_meeting_that_ran_twice_has_two_instances(fake_zoom: FakeZoom) -> None:
    """Each run has its own UUID and participants; the id alone names the latest run."""
    tokens = login(fake_zoom)
    h = bearer(tokens)
    api = fake_zoom.api_url
    mid = create(fake_zoom, tokens).json()["id"]
    first = fake_zoom.end_meeting(
        mid, [{"name": "A"}, {"name": "B"}], next_uuid="/second//run+uuid=="
    )
    second = fake_zoom.end_meeting(mid, [{"name": "C"}, {"name": "D"}])
    assert second == "/second//run+uuid=="
    listed = requests.get(f"{api}/past_meetings/{mid}/instances", headers=h).json()
    assert [m["uuid"] for m in listed["meetings"]] == [first, second]
    for uuid, names in ((first, ["A", "B"]), (second, ["C", "D"])):
        r = requests.get(f"{api}/past_meetings/{double_encode(uuid)}/participants", headers=h)
        assert [p["name"] for p in r.json()["participants"]] == names
    latest = requests.get(f"{api}/past_meetings/{mid}/participants", headers=h).json()
    assert [p["name"] for p in latest["participants"]] == ["C", "D"]
    # Zoom answers "not found" for a single-encoded UUID that starts with "/", in reports too.
    once = quote(second, safe="")
    for path in (f"/past_meetings/{once}/participants", f"/report/meetings/{once}/participants"):
        assert requests.get(api + path, headers=h).status_code == 404
    assert len(fake_zoom.take_violations()) == 2
    unknown = requests.get(f"{api}/past_meetings/12345678901/instances", headers=h)
    assert unknown.status_code == 404
