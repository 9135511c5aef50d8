"""Preferences: what one shares (recorded as consent), reminders, the language of emails."""

from __future__ import annotations

from sqlalchemy import select

from companion.core.db import Db
from companion.privacy.models import Consent
from tests.contacts.conftest import World


def test_sharing_records_consent_and_unsharing_withdraws_it(world: World, db: Db) -> None:
    alice = world.client("alice")
    defaults = alice.get("/api/v1/me/preferences").get_json()
    assert defaults["share_email"] is False and defaults["reminders"] is True
    saved = alice.post(
        "/me/preferences",
        data={"share_email": "on", "phone": "040 1", "reminders": "on", "language": "fi"},
    )
    assert saved.status_code == 303
    consent = db.scalars(select(Consent).where(Consent.participant_id == world.alice.id)).all()
    assert [(c.purpose, c.withdrawn_at) for c in consent] == [("contact_sharing", None)]
    assert alice.get("/api/v1/me/preferences").get_json()["language"] == "fi"

    db.rollback()  # end the test's read transaction before the app writes again
    assert (
        alice.post("/me/preferences", data={"reminders": "on", "language": "en"}).status_code == 303
    )
    db.expire_all()
    consent = db.scalars(select(Consent).where(Consent.participant_id == world.alice.id)).one()
    assert consent.withdrawn_at is not None


def test_bad_addresses_are_refused(world: World) -> None:
    response = world.client("alice").post(
        "/me/preferences", data={"website": "javascript:alert(1)", "share_website": "on"}
    )
    assert response.status_code == 422
    api = world.client("alice").put(
        "/api/v1/me/preferences", json={"linkedin": "ftp://x", "share_linkedin": True}
    )
    assert api.status_code == 422


def test_reminders_can_be_turned_off_with_one_button(world: World) -> None:
    bob = world.client("bob")
    assert "Turn off reminders" in bob.get("/me/reminders").get_data(as_text=True)
    assert bob.post("/me/reminders", data={"reminders": "off"}).status_code == 303
    assert bob.get("/api/v1/me/preferences").get_json()["reminders"] is False
    bob.post("/me/reminders", data={"reminders": "on"})
    assert bob.get("/api/v1/me/preferences").get_json()["reminders"] is True
    assert world.client("nobody").get("/me/reminders").status_code == 401
