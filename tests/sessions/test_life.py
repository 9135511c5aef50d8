"""A session's life through the pages and the API: ending (never ahead of time, never sending
by itself), reopening, correcting presence, and the one presence fact that every reader uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.jobs import Job
from companion.core.mail import OutboxMessage
from companion.digest.gather import digest_inputs
from companion.sessions.attendance import presence_of, record_join
from companion.sessions.models import Session, SessionStatus
from companion.sessions.operations import next_session_after
from tests.breakouts.conftest import World, _fast_plans, key_of, world  # noqa: F401


def _status(db: Db, session_id: int) -> str:
    db.rollback()
    session = db.get(Session, session_id)
    assert session is not None
    return session.status


def test_a_session_months_ahead_cannot_be_ended_on_the_page_or_the_api(
    db: Db, client: FlaskClient, make_programme: Any, make_session: Any, sign_in: Any
) -> None:
    programme = make_programme()
    ahead = make_session(programme.groups[0], starts_at=utcnow() + timedelta(days=150))
    sign_in(client, programme.roles[0].facilitator)
    page = client.get(f"/sessions/{ahead.id}").get_data(as_text=True)
    assert f"/sessions/{ahead.id}/end" not in page  # no End button to press by mistake
    assert client.get(f"/sessions/{ahead.id}/end").status_code == 409
    refused = client.post(f"/sessions/{ahead.id}/end")
    assert refused.status_code == 409 and "has not started yet" in refused.get_data(as_text=True)
    api = client.post(f"/api/v1/sessions/{ahead.id}/end")
    assert api.status_code == 409 and api.mimetype == "application/problem+json"
    assert _status(db, ahead.id) == SessionStatus.SCHEDULED
    assert db.scalars(select(OutboxMessage)).all() == []


def test_ending_asks_first_and_sends_nothing(
    db: Db, client: FlaskClient, make_programme: Any, make_session: Any, sign_in: Any,
    make_participant: Any,
) -> None:  # fmt: skip
    programme = make_programme()
    make_participant(programme, group=programme.groups[0], name="Aino Aalto")
    session = make_session(programme.groups[0], starts_at=utcnow() - timedelta(minutes=40))
    sign_in(client, programme.roles[0].facilitator)
    confirm = client.get(f"/sessions/{session.id}/end", headers={"Accept-Language": "en"})
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "End the session?" in text and "Nothing is emailed yet" in text
    assert _status(db, session.id) == SessionStatus.SCHEDULED  # asking changed nothing
    ended = client.post(f"/sessions/{session.id}/end")
    assert ended.status_code == 303
    assert ended.headers["Location"].endswith(f"/sessions/{session.id}/digest")
    assert _status(db, session.id) == SessionStatus.ENDED
    assert db.scalars(select(Job).where(Job.kind == "digest.send")).all() == []
    assert db.scalars(select(OutboxMessage)).all() == []
    review = client.get(f"/sessions/{session.id}/digest").get_data(as_text=True)
    assert "goes out by itself" in review and "Who counts as present" in review


def test_reopen_until_the_summary_is_sent(
    db: Db, client: FlaskClient, make_programme: Any, make_session: Any, sign_in: Any
) -> None:
    programme = make_programme()
    session = make_session(programme.groups[0], starts_at=utcnow() - timedelta(minutes=40))
    sign_in(client, programme.roles[0].facilitator)
    assert client.post(f"/sessions/{session.id}/end").status_code == 303
    assert client.post(f"/sessions/{session.id}/reopen").status_code == 303
    assert _status(db, session.id) == SessionStatus.SCHEDULED
    assert client.post(f"/sessions/{session.id}/end").status_code == 303
    confirm = client.get(f"/sessions/{session.id}/digest/send").get_data(as_text=True)
    assert "Send the summary?" in confirm
    assert client.post(f"/sessions/{session.id}/digest/send").status_code == 303
    assert _status(db, session.id) == SessionStatus.SUMMARY_SENT
    again = client.post(f"/sessions/{session.id}/reopen")
    assert again.status_code == 409 and "already been sent" in again.get_data(as_text=True)
    api = client.post(f"/api/v1/sessions/{session.id}/reopen")
    assert api.status_code == 409
    shown = client.get(f"/api/v1/sessions/{session.id}").get_json()
    assert (shown["status"], shown["state"]) == ("summary_sent", "summary_sent")


def test_a_cancelled_session_comes_back_only_while_it_has_not_happened(
    db: Db, client: FlaskClient, make_programme: Any, make_session: Any, sign_in: Any
) -> None:
    programme = make_programme()
    ahead = make_session(programme.groups[0], starts_at=utcnow() + timedelta(days=3))
    passed = make_session(programme.groups[0], starts_at=utcnow() - timedelta(days=3))
    sign_in(client, programme.roles[0].facilitator)
    for session in (ahead, passed):
        assert client.post(f"/sessions/{session.id}/cancel").status_code == 303
    assert client.post(f"/sessions/{ahead.id}/restore").status_code == 303
    assert _status(db, ahead.id) == SessionStatus.SCHEDULED
    refused = client.post(f"/sessions/{passed.id}/restore")
    assert refused.status_code == 409 and "has passed" in refused.get_data(as_text=True)
    assert _status(db, passed.id) == SessionStatus.CANCELLED


def test_the_facilitators_mark_is_final_and_is_what_the_summary_reads(
    app: Flask,
    db: Db,
    world: World,  # noqa: F811
) -> None:
    aino, bertta, cecilia = world.person("aino"), world.person("bertta"), world.person("cecilia")
    facilitator = world.client("facilitator")
    with app.app_context():
        record_join(db, world.session.id, aino.id)  # Aino opened her link...
        db.commit()
    url = f"/sessions/{world.session.id}/presence"
    # ...but the facilitator knows she had to leave at once; Bertta was there without a link.
    for person, mark in ((aino, "absent"), (bertta, "present")):
        saved = facilitator.post(url, data={"participant_id": person.id, "mark": mark, "to": "x"})
        assert saved.status_code == 303
        assert saved.headers["Location"].endswith(f"/sessions/{world.session.id}#presence")
    assert facilitator.post(f"/sessions/{world.session.id}/end").status_code == 303
    db.rollback()
    with app.app_context():
        session = db.get(Session, world.session.id)
        assert session is not None
        facts = presence_of(db, session)
        inputs = {i.recipient.participant_id: i for i in digest_inputs(db, _config(app), session)}
    assert (facts[aino.id].present, facts[aino.id].source) == (False, "facilitator")
    assert (facts[bertta.id].present, facts[bertta.id].source) == (True, "facilitator")
    assert facts[cecilia.id].present is False  # nobody saw her, and the session is over
    assert not inputs[aino.id].recipient.attended and inputs[bertta.id].recipient.attended
    page = facilitator.get(f"/sessions/{world.session.id}").get_data(as_text=True)
    assert "marked by a facilitator" in page and "nobody saw them" in page
    # Someone outside the group cannot be marked.
    stray = facilitator.post(url, data={"participant_id": world.olli.id, "mark": "present"})
    assert stray.status_code == 404


def test_sitting_in_a_round_that_ran_counts_as_present_and_as_having_met(
    app: Flask,
    db: Db,
    world: World,  # noqa: F811
) -> None:
    (planned,) = world.plan()
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    assert world.client("facilitator").post(f"/sessions/{world.session.id}/end").status_code == 303
    db.rollback()
    with app.app_context():
        session = db.get(Session, world.session.id)
        assert session is not None
        facts = presence_of(db, session)
    seated = {m["key"] for g in planned["groups"] for m in g["members"]}
    for person in world.people:
        assert facts[person.id].present is (key_of(person) in seated)
        if key_of(person) in seated:
            assert facts[person.id].source == "breakout"
    # Who-met-whom counts every pair of the round, joined links or not (was 1 of 66 pairs).
    met = world.client("facilitator").get(
        f"/api/v1/programmes/{world.programme.id}/breakouts/met?group={world.group.id}"
    )
    assert met.status_code == 200
    expected = sum(len(g["members"]) * (len(g["members"]) - 1) // 2 for g in planned["groups"])
    assert met.get_json()["pairs_met"] == expected > 0


def test_next_session_is_the_groups_real_next_one(
    app: Flask, db: Db, make_programme: Any, make_session: Any
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    now = utcnow()
    held = make_session(group, starts_at=now - timedelta(days=21), title="Held")
    cancelled = make_session(group, starts_at=now + timedelta(days=1), title="Cancelled")
    also_held = make_session(group, starts_at=now - timedelta(days=1), title="Also held")
    coming = make_session(group, starts_at=now + timedelta(days=20), title="Coming")
    with app.app_context():
        for session, status in ((cancelled, "cancelled"), (also_held, "summary_sent")):
            row = db.get(Session, session.id)
            assert row is not None
            row.status = status
        db.commit()
        first = db.get(Session, held.id)
        assert first is not None
        upcoming = next_session_after(first)
    # A summary sent late never points at a held or cancelled session.
    assert upcoming is not None and upcoming.id == coming.id


def _config(app: Flask) -> Any:
    return app.extensions["companion.config"]
