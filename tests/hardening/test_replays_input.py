"""The inputs the review found giving a server error (issue 13, items 1 and 12), replayed.

Each is now a 4xx with a clear message: problem+json on the API, a page in the asker's
language elsewhere, and nothing written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db
from tests.hardening.conftest import FINNISH, Site, row_counts, warm_up
from tests.hardening.test_bad_input_sweep import check_answer

PROBLEM = "application/problem+json"
SECRET = "webhook-secret-for-the-replays"


def _problem(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    return body


def _fields(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in _problem(response).get("errors", [])}


# --- numbers written with other digits, and numbers too large --------------------------------


def test_unicode_digits_in_the_panel_notes_page_without_signing_in(site: Site) -> None:
    nobody = site.clients["nobody"]
    response = nobody.get(f"/panel/sessions/{site.ids['session']}/notes?group=²", headers=FINNISH)
    assert check_answer(response, api=False, language="fi") is None
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tarkista tiedot" in page and "Anna kokonaisluku." in page


@pytest.mark.parametrize(
    "channel", ["board:²", "breakouts:²", "board:٣", "board:99999999999999999999", "notes:1:²"]
)
def test_live_token_channels(site: Site, channel: str) -> None:
    response = site.clients["participant"].get(f"/api/v1/live/token?channel={channel}")
    assert "channel.0" in _fields(response)


def test_the_forms_that_took_unicode_digits(app: Flask, db: Db, site: Site) -> None:
    fac, aino = site.clients["facilitator"], site.clients["participant"]
    programme, session, round_ = site.ids["programme"], site.ids["session"], site.ids["round"]
    warm_up(app, site)
    before = row_counts(db)
    answers = [
        (aino, aino.post(f"/sessions/{session}/my-group", data={"group_id": "²"})),
        (fac, fac.get(f"/programmes/{programme}/breakouts?group=²")),
        (
            fac,
            fac.post(
                f"/programmes/{programme}/breakouts", data={"action": "remove", "rule_id": "²"}
            ),
        ),
        (
            fac,
            fac.post(
                f"/breakouts/rounds/{round_}",
                data={"action": "rename", "group_id": "²", "name": "x"},
            ),
        ),
        (fac, fac.get(f"/programmes/{programme}/contacts?session=²")),
    ]
    for client, response in answers:
        language = "fi" if client is aino else "en"
        assert check_answer(response, api=False, language=language) is None, response.request.path
    assert row_counts(db) == before


def test_merge_into_a_number_beyond_64_bits(site: Site) -> None:
    response = site.clients["facilitator"].post(
        f"/api/v1/topics/{site.ids['topic']}/merge", json={"into": 9223372036854775808}
    )
    assert _fields(response) == {"into": "Enter 2147483647 or less."}


# --- dates at the ends of the calendar -------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "start"), [("9999-12-31", "23:59"), ("0001-01-01", "00:00"), ("2100-12-31", "24:00")]
)
def test_sessions_moves_and_schedules_at_the_calendar_ends(
    app: Flask, db: Db, site: Site, date: str, start: str
) -> None:
    fac = site.clients["facilitator"]
    programme, session, group = site.ids["programme"], site.ids["session"], site.ids["group"]
    before = row_counts(db)
    created = fac.post(
        f"/api/v1/programmes/{programme}/sessions",
        json={"group_id": group, "title": "x", "date": date, "start_time": start},
    )
    moved = fac.patch(f"/api/v1/sessions/{session}", json={"date": date, "start_time": start})
    scheduled = fac.post(
        f"/api/v1/programmes/{programme}/schedule",
        json={"group_id": group, "first_date": date, "start_time": start},
    )
    for response, field in ((created, "date"), (moved, "date"), (scheduled, "first_date")):
        errors = _fields(response)
        assert field in errors or "start_time" in errors, errors
    page = fac.post(
        f"/programmes/{programme}/sessions/new",
        data={"group_id": str(group), "title": "x", "date": date, "start_time": start},
    )
    assert check_answer(page, api=False) is None
    assert row_counts(db) == before


def test_the_last_possible_schedule_still_works(site: Site) -> None:
    # 52 sessions every 12 weeks from the last accepted date: 2112, which every later step
    # (time zones, calendar invitations, the platforms) still handles.
    response = site.clients["facilitator"].post(
        f"/api/v1/programmes/{site.ids['programme']}/schedule",
        json={
            "group_id": site.ids["group"],
            "first_date": "2100-12-31",
            "count": 52,
            "every_weeks": 12,
            "start_time": "23:59",
        },
    )
    assert response.status_code == 201, response.get_json()


# --- the Zoom webhook (no sign-in needed) ----------------------------------------------------


def _signed(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    mac = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "x-zm-signature": f"v0={mac.hexdigest()}",
        "x-zm-request-timestamp": ts,
        "content-type": "application/json",
    }


@pytest.fixture()
def webhook(config_changed: Any, client: FlaskClient) -> FlaskClient:
    config_changed(zoom_client_id="id", zoom_client_secret="secret", zoom_webhook_secret=SECRET)
    return client


def test_webhook_with_a_400_digit_timestamp(webhook: FlaskClient, db: Db) -> None:
    body = json.dumps({"event": "meeting.started", "payload": {}}).encode()
    response = webhook.post(
        "/integrations/zoom/webhook", data=body, headers=_signed(body, "9" * 400)
    )
    _problem(response, 401)


def test_webhook_with_deep_nesting(webhook: FlaskClient) -> None:
    body = ('{"event": "x", "payload": ' + "[" * 50_000 + "]" * 50_000 + "}").encode()
    _problem(webhook.post("/integrations/zoom/webhook", data=body, headers=_signed(body)))


@pytest.mark.parametrize(
    "body",
    [
        {"event": "meeting.started", "event_ts": 2**63, "payload": {}},
        {"event": "meeting.started", "event_ts": 10**30, "payload": {"object": {"id": 1}}},
        {"event": "meeting.started", "event_ts": 1, "payload": {"object": {"id": 2**64}}},
        {"event": "meeting.started", "event_ts": True, "payload": {}},
        {"event": 12, "payload": {}},
    ],
)
def test_signed_webhook_events_out_of_range(
    webhook: FlaskClient, db: Db, body: dict[str, Any]
) -> None:
    before = row_counts(db)
    raw = json.dumps(body).encode()
    _problem(webhook.post("/integrations/zoom/webhook", data=raw, headers=_signed(raw)))
    assert row_counts(db) == before


def test_signed_event_with_a_meeting_id_beyond_bigint_is_no_meeting_of_ours(
    webhook: FlaskClient, db: Db
) -> None:
    body = {
        "event": "meeting.started",
        "event_ts": int(time.time() * 1000),
        "payload": {"object": {"id": "9" * 30, "uuid": "abc"}},
    }
    raw = json.dumps(body).encode()
    response = webhook.post("/integrations/zoom/webhook", data=raw, headers=_signed(raw))
    assert response.status_code == 200 and response.get_json() == {"status": "queued"}


# --- a Host header that is not a host ----------------------------------------------------------


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example", "-.example", "a b"])
def test_an_invalid_host_is_a_400_page(client: FlaskClient, host: str) -> None:
    page = client.get("/sign-in", headers={"Host": host, **FINNISH})
    assert page.status_code == 400 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert '<html lang="fi">' in text and "Virheellinen pyyntö" in text
    api = client.get("/api/v1/programmes", headers={"Host": host})
    _problem(api, 400)


# --- item 12: strict types, 401 first, messages in the requester's language --------------------


def test_strict_json_types(site: Site) -> None:
    fac = site.clients["facilitator"]
    started = fac.post("/api/v1/programmes", json={"name": "x", "starts_on": 0})
    assert _fields(started) == {"starts_on": "Enter a date as YYYY-MM-DD."}
    timer = fac.post(
        f"/api/v1/boards/{site.ids['board']}/timer", json={"action": "start", "minutes": True}
    )
    assert _fields(timer) == {"minutes": "Enter a whole number."}
    as_text = fac.post(f"/api/v1/topics/{site.ids['topic']}/merge", json={"into": "1"})
    assert _fields(as_text) == {"into": "Enter a whole number."}


def test_an_unauthenticated_write_gets_401_not_form_expired(
    client: FlaskClient, site: Site, csrf_on: None
) -> None:
    response = client.post("/api/v1/programmes", json={"starts_on": 0})
    assert _problem(response, 401)["title"] == "Please sign in"


def test_validation_messages_come_in_the_requesters_language(
    site: Site, make_facilitator: Any, sign_in: Any, app: Flask
) -> None:
    english = site.clients["facilitator"]  # chose English; the browser asks for Finnish
    answer = english.post("/api/v1/programmes", json={"name": ""}, headers=FINNISH)
    assert _problem(answer)["detail"] == "Please correct the marked fields."
    assert _fields(answer) == {"name": "This field is required."}
    finn = sign_in(app.test_client(), make_facilitator(language="fi"))
    answer = finn.post("/api/v1/programmes", json={"name": ""}, headers={"Accept-Language": "en"})
    assert _problem(answer)["detail"] == "Korjaa merkityt kentät."
