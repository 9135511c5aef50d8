"""The sessions part of the JSON API, and its access rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from companion.core.db import utcnow


def test_schedule_create_move_cancel_over_the_api(
    client: FlaskClient, make_programme, sign_in
) -> None:
    programme = make_programme(timezone="Europe/Helsinki")
    sign_in(client, programme.roles[0].facilitator)
    group_id = programme.groups[0].id
    created = client.post(
        f"/api/v1/programmes/{programme.id}/schedule",
        json={
            "group_id": group_id,
            "first_date": "2027-03-08",
            "start_time": "09:00",
            "count": 3,
            "every_weeks": 3,
        },
    )
    assert created.status_code == 201
    sessions = created.get_json()
    assert [s["starts_at"] for s in sessions] == [
        "2027-03-08T07:00:00Z",
        "2027-03-29T06:00:00Z",  # after the clocks went forward: still 9:00 in Helsinki
        "2027-04-19T06:00:00Z",
    ]
    assert all(s["join_url"].startswith("https://meet.jit.si/") for s in sessions)
    assert sessions[0]["agenda"][0]["kind"] == "welcome"

    first = sessions[0]["id"]
    moved = client.patch(
        f"/api/v1/sessions/{first}", json={"date": "2027-03-10", "start_time": "13:15"}
    )
    assert moved.status_code == 200
    assert moved.get_json()["starts_at"] == "2027-03-10T11:15:00Z"

    cancelled = client.post(f"/api/v1/sessions/{first}/cancel")
    assert cancelled.get_json()["status"] == "cancelled"
    listed = client.get(f"/api/v1/programmes/{programme.id}/sessions").get_json()
    assert [s["status"] for s in listed] == ["cancelled", "scheduled", "scheduled"]

    # The speaker goes into the default expert-talk slot; a second talk would not fit.
    slot = next(i for i in sessions[1]["agenda"] if i["kind"] == "expert_talk")
    talk = client.patch(
        f"/api/v1/agenda/{slot['id']}",
        json={
            "title": "Ajanhallinta",
            "speaker_name": "Leena",
            "material_url": "https://example.org/slides.pdf",
        },
    )
    assert talk.status_code == 200
    kinds = [i["kind"] for i in talk.get_json()["agenda"]]
    assert kinds.count("expert_talk") == 1 and kinds[-1] == "closing"
    assert [i["speaker_name"] for i in talk.get_json()["agenda"] if i["speaker_name"]] == ["Leena"]
    too_long = client.post(
        f"/api/v1/sessions/{sessions[1]['id']}/agenda",
        json={"kind": "expert_talk", "speaker_name": "Leena", "duration_minutes": 15},
    )
    assert too_long.status_code == 422
    assert too_long.get_json()["errors"][0]["field"] == "duration_minutes"


def test_session_validation_errors(client: FlaskClient, make_programme, sign_in) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    bad = client.post(
        f"/api/v1/programmes/{programme.id}/sessions",
        json={"group_id": 424242, "title": "x", "date": "2027-02-30", "start_time": "9"},
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert {"date", "start_time"} <= fields
    other_group = client.post(
        f"/api/v1/programmes/{programme.id}/sessions",
        json={"group_id": 424242, "title": "x", "date": "2027-02-15", "start_time": "09:00"},
    )
    assert other_group.status_code == 422
    assert other_group.get_json()["errors"][0]["field"] == "group_id"


def test_attendance_over_the_api(
    app, client: FlaskClient, db, make_programme, make_participant, make_session, sign_in
) -> None:
    from companion.sessions import join_links

    programme = make_programme()
    session = make_session(programme.groups[0], starts_at=utcnow() - timedelta(minutes=1))
    participant = make_participant(programme)
    with app.app_context():
        link = join_links.join_link_for(db, participant)
        db.commit()
        token = join_links.join_token(link)
    app.test_client().get(f"/j/{token}")
    sign_in(client, programme.roles[0].facilitator)
    rows = client.get(f"/api/v1/sessions/{session.id}/attendance").get_json()
    assert [(r["participant_id"], r["present"], r["source"]) for r in rows] == [
        (participant.id, True, "link")
    ]
    assert [report["source"] for report in rows[0]["reports"]] == ["link"]
    # The facilitator's mark overrides the join link, and "clear" gives the link its say back.
    url = f"/api/v1/sessions/{session.id}/attendance"
    marked = client.put(url, json={"participant_id": participant.id, "mark": "absent"})
    assert marked.status_code == 200
    assert (marked.get_json()["present"], marked.get_json()["source"]) == (False, "facilitator")
    cleared = client.put(url, json={"participant_id": participant.id, "mark": "clear"})
    assert (cleared.get_json()["present"], cleared.get_json()["source"]) == (True, "link")


def test_other_organisations_sessions_are_invisible(
    client: FlaskClient, make_programme, make_session, make_facilitator, sign_in
) -> None:
    theirs = make_programme()
    session = make_session(theirs.groups[0], starts_at=datetime(2027, 1, 4, 7, tzinfo=UTC))
    sign_in(client, make_facilitator())
    for method, url, body in (
        ("get", f"/api/v1/sessions/{session.id}", None),
        ("patch", f"/api/v1/sessions/{session.id}", {"date": "2027-01-05", "start_time": "09:00"}),
        ("post", f"/api/v1/sessions/{session.id}/cancel", None),
        ("get", f"/api/v1/sessions/{session.id}/attendance", None),
        ("get", f"/api/v1/programmes/{theirs.id}/sessions", None),
        (
            "post",
            f"/api/v1/programmes/{theirs.id}/schedule",
            {"group_id": theirs.groups[0].id, "first_date": "2027-01-04"},
        ),
    ):
        response = getattr(client, method)(url, json=body)
        assert response.status_code == 404, (method, url)
        assert response.mimetype == "application/problem+json"
    for url in (
        f"/sessions/{session.id}",
        f"/sessions/{session.id}/edit",
        f"/programmes/{theirs.id}/sessions",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/sessions/{session.id}/cancel").status_code == 404
    assert client.post(f"/sessions/{session.id}/end").status_code == 404


def test_session_pages(
    client: FlaskClient, make_programme, make_participant, make_session, sign_in
) -> None:
    programme = make_programme()
    session = make_session(programme.groups[0], title="Kickoff")
    make_participant(programme, name="Aino Virtanen")
    sign_in(client, programme.roles[0].facilitator)
    page = client.get(f"/sessions/{session.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Kickoff" in text and "Aino Virtanen" in text and "/j/" in text
    assert client.get(f"/sessions/{session.id}/edit").status_code == 200
    assert client.get(f"/programmes/{programme.id}/sessions/new").status_code == 200
    added = client.post(
        f"/programmes/{programme.id}/sessions/new",
        data={
            "group_id": programme.groups[1].id,
            "title": "Extra",
            "date": "2027-05-03",
            "start_time": "09:00",
            "duration_minutes": "90",
        },
    )
    assert added.status_code == 303
    agenda = client.post(
        f"/sessions/{session.id}/agenda",
        data={"kind": "expert_talk", "title": "Talk", "duration_minutes": "200"},
    )
    assert agenda.status_code == 422
    assert "would take 200 min, but the session is 120 min long" in agenda.get_data(as_text=True)
    # Tomorrow's session cannot be ended, neither from its page nor by a crafted post.
    assert "End session" not in text
    refused = client.post(f"/sessions/{session.id}/end")
    assert refused.status_code == 409
    assert "has not started yet" in refused.get_data(as_text=True)
    running = make_session(programme.groups[0], starts_at=utcnow() - timedelta(minutes=10))
    assert "End session" in client.get(f"/sessions/{running.id}").get_data(as_text=True)
    ended = client.post(f"/sessions/{running.id}/end", follow_redirects=True)
    assert "The session has ended." in ended.get_data(as_text=True)
