"""The audit log: facilitators' views of personal data and exports are recorded without the
data itself, and only the organisation's admin reads them."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db
from companion.core.mail import OutboxMessage
from companion.privacy.audit import record_audit
from companion.privacy.models import AuditEntry
from tests.privacy.conftest import EMAIL, NAME, World, enter_as


def _actions(db: Db) -> list[tuple[str, int | None]]:
    db.rollback()
    return [
        (e.action, e.facilitator_id) for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


def test_views_of_personal_data_are_recorded(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any
) -> None:
    sign_in(client, world.facilitator)
    fid = world.facilitator.id
    assert client.get(f"/programmes/{world.programme.id}/participants").status_code == 200
    assert client.get(f"/participants/{world.hannele.id}/edit").status_code == 200
    assert client.get("/interest").status_code == 200
    message = db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == EMAIL))
    assert message is not None
    assert client.get(f"/outbox/{message.id}").status_code == 200
    download = client.get(f"/participants/{world.hannele.id}/data.json")
    assert download.status_code == 200 and EMAIL in download.get_data(as_text=True)
    assert _actions(db) == [
        ("participants.view", fid),
        ("participant.view", fid),
        ("interest.view", fid),
        ("outbox.view", fid),
        ("participant.export", fid),
    ]
    entries = list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert entries[1].details == {
        "programme_id": world.programme.id,
        "participant_id": world.hannele.id,
    }
    stored = json.dumps([e.details for e in entries], ensure_ascii=False)
    assert NAME not in stored and EMAIL not in stored


def test_a_participant_s_download_is_recorded(
    app: Flask, db: Db, world: World, client: Any
) -> None:
    enter_as(app, db, client, world.hannele)
    client.get("/me/data.json")
    assert _actions(db) == [("participant.download", None)]


def test_record_audit_for_other_packages(app: Flask, db: Db, world: World) -> None:
    # The outcomes package logs its exports this way.
    with app.app_context():
        entry = record_audit(
            db,
            "export.participants",
            organisation_id=world.programme.organisation_id,
            facilitator=world.facilitator,
            programme_id=world.programme.id,
            format="xlsx",
            rows=3,
        )
        db.commit()
    assert entry.details == {"programme_id": world.programme.id, "format": "xlsx", "rows": 3}


def test_only_the_admin_reads_the_log(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any, make_facilitator: Any
) -> None:
    sign_in(client, world.facilitator)
    client.get(f"/programmes/{world.programme.id}/participants")
    assert client.get("/audit").status_code == 403

    admin = make_facilitator(organisation=world.facilitator.organisation, admin=True)
    outsider = make_facilitator(admin=True)
    page = sign_in(app.test_client(), admin).get("/audit?lang=en").get_data(as_text=True)
    row = 'data-action="participants.view"'
    assert row in page and world.facilitator.name in page
    assert 'href="/audit"' in page  # the admin's menu links to it
    filtered = sign_in(app.test_client(), admin).get("/audit?lang=en&action=outbox.view")
    assert row not in filtered.get_data(as_text=True)
    other = sign_in(app.test_client(), outsider).get("/audit?lang=en").get_data(as_text=True)
    assert row not in other and "No entries." in other
