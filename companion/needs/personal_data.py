"""The needs package's share of personal data (see `companion.privacy.registry`): what a
person offers and looks for. Erasure deletes it (it is theirs alone; no total depends on it).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete

from companion.core.db import Db
from companion.needs.models import ParticipantNeeds
from companion.privacy.registry import Section, register_personal_data


def export_needs(db: Db, participant_id: int) -> list[Section]:
    """Their offers and needs, in their own words, and whether others may see them."""
    row = db.get(ParticipantNeeds, participant_id)
    records = (
        []
        if row is None
        else [
            {
                "offers": ", ".join(str(k) for k in row.offers),
                "needs": ", ".join(str(k) for k in row.needs),
                "offer_text": row.offer_text,
                "need_text": row.need_text,
                "shown": row.shown,
            }
        ]
    )
    return [
        Section(
            key="offers_and_needs",
            title=_("What you offer and look for"),
            records=records,
            labels={
                "offers": _("I can offer"),
                "needs": _("I am looking for"),
                "offer_text": _("In my own words: what I offer"),
                "need_text": _("In my own words: what I look for"),
                "shown": _("Others in my groups may see these"),
            },
        )
    ]


def erase_needs(db: Db, participant_id: int) -> None:
    """Their offers and needs go."""
    db.execute(delete(ParticipantNeeds).where(ParticipantNeeds.participant_id == participant_id))


def identifying_needs(db: Db, participant_id: int) -> list[str]:
    """Their own descriptions of what they offer and look for."""
    row = db.get(ParticipantNeeds, participant_id)
    return [] if row is None else [t for t in (row.offer_text, row.need_text) if t]


register_personal_data(
    "needs",
    tables=("participant_needs",),
    export_participant=export_needs,
    erase_participant=erase_needs,
    identifying_texts=identifying_needs,
)
