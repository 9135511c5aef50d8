"""Erasure: no trace of the person in any column of any table or in the outbox, while the
programme's outcome totals (presence, contacts, votes) stay exactly as they were."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from companion.board.models import Topic, Vote
from companion.contacts.operations import contact_counts
from companion.core.db import Db
from companion.core.mail import OutboxMessage
from companion.notes.models import NoteItem
from companion.privacy.erasure import erase_participant
from companion.privacy.models import AuditEntry, Consent
from companion.programmes.models import ERASED, Participant, Programme
from companion.sessions.attendance import attended
from companion.sessions.models import Session
from tests.privacy.conftest import (
    EMAIL,
    NAME,
    PHONE,
    PRIVATE_TEXTS,
    SHARED_TOPIC,
    WEBSITE,
    World,
    traces,
)

IDENTIFYING = (NAME, EMAIL, PHONE, WEBSITE, *PRIVATE_TEXTS)


def _totals(db: Db, world: World) -> dict[str, Any]:
    session = db.get(Session, world.session.id)
    programme = db.get(Programme, world.programme.id)
    assert session is not None and programme is not None
    return {
        "present": len(attended(db, session)),
        "contacts": contact_counts(db, programme).model_dump(),
        "votes": db.scalar(select(func.sum(Vote.count)).where(Vote.topic_id == world.topic_id)),
        "topics": db.scalar(select(func.count(Topic.id))),
        "notes": db.scalar(select(func.count(NoteItem.id))),
    }


def test_the_world_holds_her_everywhere_before(app: Flask, db: Db, world: World) -> None:
    # The scan finds what it should (otherwise the test below proves nothing).
    with app.app_context():
        found = {needle for _table, _column, needle in traces(db, IDENTIFYING)}
    assert found == {n.casefold() for n in IDENTIFYING}


def test_erasure_leaves_no_trace_and_keeps_the_totals(app: Flask, db: Db, world: World) -> None:
    with app.app_context():
        before = _totals(db, world)
        assert before["present"] == 2 and before["votes"] == 2
        assert before["contacts"]["with_mutual_contact"] == 2
        erase_participant(db, db.get_one(Participant, world.hannele.id))
        db.commit()

        assert traces(db, IDENTIFYING) == []
        assert _totals(db, world) == before

        stand_in = db.get_one(Participant, world.hannele.id)
        assert stand_in.source == ERASED and stand_in.name == "Former participant"
        assert stand_in.memberships == []
        topic = db.get_one(Topic, world.topic_id)
        assert topic.title == SHARED_TOPIC and topic.author_name == "Former participant"
        # Queued mail to her is gone; the sent one keeps only that it was sent.
        to_her = db.scalars(select(OutboxMessage).where(OutboxMessage.kind != "digest")).all()
        assert [m.kind for m in to_her] == []
        stripped = db.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "")).all()
        assert [(m.kind, m.status, m.text_body) for m in stripped] == [("digest", "sent", "")]
        bob_mail = db.scalar(
            select(OutboxMessage).where(OutboxMessage.to_address == "bob@example.fi")
        )
        assert bob_mail is not None and "Former participant" in bob_mail.text_body
        assert all(
            c.withdrawn_at is not None
            for c in db.scalars(select(Consent).where(Consent.participant_id == world.hannele.id))
        )
        # Others are untouched.
        assert db.get_one(Participant, world.bob.id).name == "Bob Bergström"
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "participant.erase"))
        assert entry is not None and entry.details["participant_id"] == world.hannele.id


def test_someone_who_took_part_in_nothing_leaves_no_row(
    app: Flask, db: Db, world: World, make_participant: Any
) -> None:
    quiet = make_participant(world.programme, name="Quiet Person", email="quiet@example.fi")
    with app.app_context():
        erase_participant(db, db.get_one(Participant, quiet.id))
        db.commit()
        assert db.get(Participant, quiet.id) is None
        assert traces(db, ("Quiet Person", "quiet@example.fi")) == []


def test_the_participant_list_no_longer_shows_her(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any
) -> None:
    with app.app_context():
        erase_participant(db, db.get_one(Participant, world.hannele.id))
        db.commit()
    page = (
        sign_in(client, world.facilitator)
        .get(f"/programmes/{world.programme.id}/participants")
        .get_data(as_text=True)
    )
    assert "Bob Bergström" in page and "Former participant" not in page
    assert client.get(f"/participants/{world.hannele.id}/edit").status_code == 404
