"""The agenda: every slot editable and reorderable, its total within the session's length
(pages and API alike), the default expert-talk slot edited in place."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from companion.sessions.agenda import fit_minutes


def _session(client: FlaskClient, programme: Any, **fields: Any) -> dict[str, Any]:
    """A session with the default agenda, made over the API as a facilitator would."""
    response = client.post(
        f"/api/v1/programmes/{programme.id}/sessions",
        json={
            "group_id": programme.groups[0].id,
            "title": "Ajanhallinta",
            "date": "2031-03-04",
            "start_time": "09:00",
            **fields,
        },
    )
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()
    return data


def _kinds(session: dict[str, Any]) -> list[str]:
    return [item["kind"] for item in session["agenda"]]


def test_the_default_agenda_fits_and_shows_each_slots_time(
    client: FlaskClient, make_programme, sign_in
) -> None:
    programme = make_programme(timezone="Europe/Helsinki")
    sign_in(client, programme.roles[0].facilitator)
    session = _session(client, programme)
    assert _kinds(session) == ["welcome", "topic_board", "breakouts", "expert_talk", "closing"]
    assert session["agenda_minutes"] == 110 and session["duration_minutes"] == 120
    # 9:00 Helsinki in March is 7:00 UTC; the talk follows 15 + 15 + 45 minutes.
    assert session["agenda"][0]["starts_at"] == "2031-03-04T07:00:00Z"
    assert session["agenda"][3]["starts_at"] == "2031-03-04T08:15:00Z"
    short = _session(client, programme, duration_minutes=60)
    assert short["agenda_minutes"] == 60
    assert all(item["duration_minutes"] >= 5 for item in short["agenda"])
    assert _kinds(short) == _kinds(session)


def test_fitting_the_default_agenda_to_short_sessions() -> None:
    assert fit_minutes([15, 15, 45, 20, 15], 120) == [15, 15, 45, 20, 15]
    fitted = fit_minutes([15, 15, 45, 20, 15], 60, flexible=2)
    assert sum(fitted) == 60 and fitted[2] == max(fitted)
    assert all(m % 5 == 0 for m in fitted)
    tiny = fit_minutes([15, 15, 45, 20, 15], 15, flexible=2)
    assert sum(tiny) == 15 and min(tiny) >= 1


def test_items_are_edited_in_place_over_the_api_and_the_total_is_kept(
    client: FlaskClient, make_programme, sign_in
) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    session = _session(client, programme)
    talk = next(i for i in session["agenda"] if i["kind"] == "expert_talk")

    edited = client.patch(
        f"/api/v1/agenda/{talk['id']}",
        json={"title": "Tavoitteiden asettaminen", "speaker_name": "Eeva Asiantuntija"},
    )
    assert edited.status_code == 200
    after = edited.get_json()
    assert len(after["agenda"]) == 5  # no second talk after the closing
    assert after["agenda"][3]["title"] == "Tavoitteiden asettaminen"
    assert after["agenda"][3]["speaker_name"] == "Eeva Asiantuntija"
    assert after["agenda"][3]["duration_minutes"] == 20  # untouched fields stay

    longer = client.patch(f"/api/v1/agenda/{talk['id']}", json={"duration_minutes": 30})
    assert longer.status_code == 200 and longer.get_json()["agenda_minutes"] == 120
    too_long = client.patch(f"/api/v1/agenda/{talk['id']}", json={"duration_minutes": 31})
    assert too_long.status_code == 422
    assert too_long.get_json()["errors"] == [
        {
            "field": "duration_minutes",
            "message": "The agenda would take 121 min, but the session is 120 min long. "
            "Shorten a slot or make the session longer first.",
        }
    ]
    refused = client.post(
        f"/api/v1/sessions/{session['id']}/agenda", json={"kind": "other", "duration_minutes": 1}
    )
    assert refused.status_code == 422
    http = client.patch(f"/api/v1/agenda/{talk['id']}", json={"material_url": "http://x.org/a"})
    assert http.status_code == 422 and http.get_json()["errors"][0]["field"] == "material_url"

    unchanged = client.get(f"/api/v1/sessions/{session['id']}").get_json()
    assert unchanged["agenda_minutes"] == 120 and len(unchanged["agenda"]) == 5


def test_the_agenda_is_reordered_and_items_removed_over_the_api(
    client: FlaskClient, make_programme, sign_in
) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    session = _session(client, programme)
    ids = [item["id"] for item in session["agenda"]]
    order = [ids[0], ids[3], ids[1], ids[2], ids[4]]  # the talk right after the welcome
    moved = client.put(f"/api/v1/sessions/{session['id']}/agenda/order", json={"item_ids": order})
    assert moved.status_code == 200
    agenda = moved.get_json()["agenda"]
    assert [i["id"] for i in agenda] == order
    assert [i["position"] for i in agenda] == [0, 1, 2, 3, 4]
    assert agenda[1]["starts_at"].endswith("07:15:00Z")  # the talk now starts at 9:15
    for wrong in (order[:4], [*order, order[0]], [*order[:4], 424242]):
        bad = client.put(f"/api/v1/sessions/{session['id']}/agenda/order", json={"item_ids": wrong})
        assert bad.status_code == 422, wrong
    removed = client.delete(f"/api/v1/agenda/{ids[2]}")
    assert removed.status_code == 200
    assert [i["position"] for i in removed.get_json()["agenda"]] == [0, 1, 2, 3]
    assert removed.get_json()["agenda_minutes"] == 65  # the small groups went


def test_another_organisation_cannot_touch_the_agenda(
    client: FlaskClient, make_programme, make_facilitator, sign_in
) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    session = _session(client, programme)
    item = session["agenda"][0]["id"]
    sign_in(client, make_facilitator())
    assert client.patch(f"/api/v1/agenda/{item}", json={"title": "x"}).status_code == 404
    assert client.delete(f"/api/v1/agenda/{item}").status_code == 404
    assert (
        client.put(
            f"/api/v1/sessions/{session['id']}/agenda/order", json={"item_ids": [item]}
        ).status_code
        == 404
    )
    assert client.get(f"/agenda/{item}/edit").status_code == 404
    assert client.post(f"/agenda/{item}/edit", data={"title": "x"}).status_code == 404


def test_editing_on_the_pages(client: FlaskClient, make_programme, sign_in) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    session = _session(client, programme)
    talk = next(i for i in session["agenda"] if i["kind"] == "expert_talk")

    page = client.get(f"/sessions/{session['id']}").get_data(as_text=True)
    assert "110 of 120 min planned" in page and "10 min free" in page
    assert f"/agenda/{talk['id']}/edit" in page
    assert 'aria-label="Move Expert talk up"' in page  # the ↑/↓ buttons name their item

    form = client.get(f"/agenda/{talk['id']}/edit")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'value="Expert talk"' in html and "this slot can take at most 30 min" in html

    saved = client.post(
        f"/agenda/{talk['id']}/edit",
        data={
            "kind": "expert_talk",
            "title": "Ajanhallinta",
            "duration_minutes": "25",
            "speaker_name": "Eeva Asiantuntija",
            "material_url": "https://example.org/ajanhallinta.pdf",
            "description": "Työkaluja oman ajan hallintaan",
        },
    )
    assert saved.status_code == 303 and saved.location.endswith(f"/sessions/{session['id']}#agenda")
    after = client.get(f"/api/v1/sessions/{session['id']}").get_json()
    assert len(after["agenda"]) == 5
    assert after["agenda"][3]["speaker_name"] == "Eeva Asiantuntija"
    assert after["agenda"][3]["description"] == "Työkaluja oman ajan hallintaan"

    too_long = client.post(
        f"/agenda/{talk['id']}/edit",
        data={"kind": "expert_talk", "title": "Ajanhallinta", "duration_minutes": "45"},
    )
    assert too_long.status_code == 422
    assert "would take 135 min" in too_long.get_data(as_text=True)
    assert client.get(f"/api/v1/sessions/{session['id']}").get_json()["agenda_minutes"] == 115

    # Moving with the arrows, then adding beyond the length from the session page.
    moved = client.post(f"/agenda/{talk['id']}/move/up")
    assert moved.status_code == 303
    assert (
        client.get(f"/api/v1/sessions/{session['id']}").get_json()["agenda"][2]["id"] == talk["id"]
    )
    added = client.post(
        f"/sessions/{session['id']}/agenda", data={"kind": "other", "duration_minutes": "10"}
    )
    assert added.status_code == 422
    assert "would take 125 min" in added.get_data(as_text=True)
    fits = client.post(
        f"/sessions/{session['id']}/agenda",
        data={"kind": "other", "title": "Tauko", "duration_minutes": "5"},
    )
    assert fits.status_code == 303
    page = client.get(f"/sessions/{session['id']}").get_data(as_text=True)
    assert "120 of 120 min planned" in page


def test_a_session_cannot_be_shortened_below_its_agenda(
    client: FlaskClient, make_programme, sign_in
) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    session = _session(client, programme)
    shorter = client.patch(
        f"/api/v1/sessions/{session['id']}",
        json={"date": "2031-03-04", "start_time": "09:00", "duration_minutes": 90},
    )
    assert shorter.status_code == 422
    assert shorter.get_json()["errors"][0]["field"] == "duration_minutes"
    page = client.post(
        f"/sessions/{session['id']}/edit",
        data={"date": "2031-03-04", "start_time": "09:00", "duration_minutes": "90"},
    )
    assert page.status_code == 422
    assert "The agenda takes 110 min, longer than 90 min." in page.get_data(as_text=True)
    fine = client.patch(
        f"/api/v1/sessions/{session['id']}",
        json={"date": "2031-03-05", "start_time": "10:00", "duration_minutes": 110},
    )
    assert fine.status_code == 200 and fine.get_json()["duration_minutes"] == 110
