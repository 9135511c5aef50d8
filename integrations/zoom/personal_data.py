"""Zoom's share of a participant's data (see `companion.privacy.registry`): the Zoom users
recognised as them, and webhook deliveries that name them (a participant joined or left)."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import delete, select

from companion.core.db import Db
from companion.privacy.registry import Section, register_personal_data
from companion.programmes.models import Participant
from integrations.zoom.models import ZoomIdentity, ZoomWebhookEvent


def export_zoom(db: Db, participant_id: int) -> list[Section]:
    """The Zoom users Kollega recognised as the person."""
    rows = db.scalars(select(ZoomIdentity).where(ZoomIdentity.participant_id == participant_id))
    return [
        Section(
            key="zoom_users",
            title=_("Zoom users recognised as you"),
            records=[{"zoom_user_id": r.zoom_user_id, "seen_at": r.seen_at} for r in rows],
            labels={"zoom_user_id": _("Zoom user id"), "seen_at": _("Last seen")},
        )
    ]


def erase_zoom(db: Db, participant_id: int) -> None:
    """Forget the Zoom users linked to them and the stored webhook deliveries naming them."""
    participant = db.get(Participant, participant_id)
    db.execute(delete(ZoomIdentity).where(ZoomIdentity.participant_id == participant_id))
    if participant is None:
        return
    needles = {participant.email.lower(), participant.name.casefold()} - {""}
    doomed = [
        event_id
        for event_id, payload in db.execute(select(ZoomWebhookEvent.id, ZoomWebhookEvent.payload))
        if any(n in json.dumps(payload, ensure_ascii=False).casefold() for n in needles)
    ]
    if doomed:
        db.execute(delete(ZoomWebhookEvent).where(ZoomWebhookEvent.id.in_(doomed)))


register_personal_data(
    "zoom",
    tables=("zoom_identity", "zoom_webhook_event"),
    export_participant=export_zoom,
    erase_participant=erase_zoom,
)
