"""The next round: the interest list invited in one step, a programme copied without people,
archived (read-only) and deleted by its owners with its people's data."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from companion.core.db import Db
from companion.core.mail import OutboxMessage
from companion.privacy.models import AuditEntry
from companion.programmes.models import (
    InterestInvitation,
    InterestSubmission,
    Participant,
    Programme,
    ProgrammeArchive,
)
from companion.sessions.models import AgendaItem, AgendaTemplateItem
from tests.privacy.conftest import EMAIL, NAME, PHONE, World, traces
from tests.privacy.conftest import world as world  # the fixture


def _interest(db: Db, organisation_id: int, name: str, email: str) -> int:
    submission = InterestSubmission(
        organisation_id=organisation_id, name=name, email=email, consent_version="t1"
    )
    db.add(submission)
    db.commit()
    return submission.id


def test_the_interest_list_is_invited_in_one_step(
    app: Flask, db: Db, client: Any, sign_in: Any, make_programme: Any, make_facilitator: Any
) -> None:
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator, name="eKollega autumn")
    group = programme.groups[0]
    ids = [
        _interest(db, facilitator.organisation_id, "Aino Aalto", "aino@example.fi"),
        _interest(db, facilitator.organisation_id, "Eero Eskola", "eero@example.fi"),
    ]
    stranger = make_facilitator()
    foreign = _interest(db, stranger.organisation_id, "Not Ours", "other@example.fi")
    sign_in(client, facilitator)
    listing = client.get("/interest?lang=en").get_data(as_text=True)
    assert f'name="submission" value="{ids[0]}"' in listing and "eKollega autumn" in listing

    query = {"group_id": group.id, "submission": [*ids, foreign]}
    preview = client.get("/interest/invite", query_string={**query, "lang": "en"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Aino Aalto" in text and "Not Ours" not in text
    assert f"/intake/{group.intake_token}" in text

    assert client.post("/interest/invite", data=query).status_code == 303
    mails = db.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "interest_invitation")
    ).all()
    assert sorted(m.to_address for m in mails) == ["aino@example.fi", "eero@example.fi"]
    assert all(f"/intake/{group.intake_token}" in m.text_body for m in mails)
    # Once per group: a second round of the same choice sends nothing.
    client.post("/interest/invite", data=query)
    assert db.scalar(select(func.count(InterestInvitation.id))) == 2
    assert db.scalar(select(func.count(OutboxMessage.id))) == 2
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "interest.invite"))
    assert entry is not None and entry.details["count"] == 2
    listing = client.get("/interest?lang=en").get_data(as_text=True)
    assert listing.count("Invited to eKollega autumn, Group 1") == 2


def test_a_copy_has_groups_agenda_and_settings_but_no_people(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any
) -> None:
    sign_in(client, world.facilitator)
    response = client.post(
        f"/programmes/{world.programme.id}/copy",
        data={"name": "eKollega autumn", "starts_on": "2027-09-01", "ends_on": "2027-12-15"},
    )
    assert response.status_code == 303
    copy = db.scalar(select(Programme).where(Programme.name == "eKollega autumn"))
    assert copy is not None and copy.id != world.programme.id
    assert [g.name for g in copy.groups] == [g.name for g in world.programme.groups]
    assert (copy.timezone, copy.language, copy.platform) == (
        world.programme.timezone,
        world.programme.language,
        world.programme.platform,
    )
    assert db.scalar(select(func.count()).where(Participant.programme_id == copy.id)) == 0
    slots = db.scalars(
        select(AgendaTemplateItem.title)
        .where(AgendaTemplateItem.programme_id == copy.id)
        .order_by(AgendaTemplateItem.position)
    ).all()
    original = db.scalars(
        select(AgendaItem.title)
        .where(AgendaItem.session_id == world.session.id)
        .order_by(AgendaItem.position)
    ).all()
    assert slots == original


def test_an_archived_programme_is_read_only_and_listed_apart(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any
) -> None:
    sign_in(client, world.facilitator)
    assert client.post(f"/programmes/{world.programme.id}/archive").status_code == 303
    assert db.get(ProgrammeArchive, world.programme.id) is not None
    assert [g.intake_open for g in db.get_one(Programme, world.programme.id).groups] == [False]
    page = client.get(f"/programmes/{world.programme.id}?lang=en").get_data(as_text=True)
    assert "archived" in page
    listing = client.get("/programmes?lang=en").get_data(as_text=True)
    assert listing.index("Archived (1)") < listing.index(world.programme.name)
    refused = client.post(
        f"/programmes/{world.programme.id}/participants/new",
        data={"name": "New Person", "email": "new@example.fi"},
    )
    assert refused.status_code == 409
    assert client.post(f"/programmes/{world.programme.id}/unarchive").status_code == 303
    db.rollback()
    assert db.get(ProgrammeArchive, world.programme.id) is None


def test_deleting_needs_the_typed_name_and_erases_the_people(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any, make_facilitator: Any
) -> None:
    programme_id, name = world.programme.id, world.programme.name
    url = f"/programmes/{programme_id}/delete"
    # Someone of the same organisation without a role in the programme cannot.
    colleague = make_facilitator(organisation=world.facilitator.organisation)
    assert sign_in(app.test_client(), colleague).post(
        url, data={"confirm_name": "x"}
    ).status_code in (403, 404)
    sign_in(client, world.facilitator)
    assert "Type the programme" in client.get(f"{url}?lang=en").get_data(as_text=True)
    assert client.post(url, data={"confirm_name": "eKollega"}).status_code == 422
    assert db.get(Programme, world.programme.id) is not None

    assert client.post(url, data={"confirm_name": name}).status_code == 303
    db.rollback()
    assert db.scalar(select(Programme.id).where(Programme.id == programme_id)) is None
    assert traces(db, (NAME, EMAIL, PHONE, "bob@example.fi", "Carol Castrén")) == []
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "programme.delete"))
    assert entry is not None and entry.details["participants"] == 3
