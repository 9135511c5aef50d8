"""The sessions package's share of personal data (see `companion.privacy.registry`): a person's
presence at each session and their join link; experts named on agenda slots.

Erasure keeps the presence reports: they point at the anonymous stand-in the person becomes,
so "held with N present" stays true. The join link goes, and with it every emailed link.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from companion.core.db import Db
from companion.privacy.registry import Section, register_personal_data
from companion.programmes.models import Group, Membership
from companion.sessions.attendance import presence_by_session
from companion.sessions.models import AgendaItem, JoinLink, PresenceReport, Session


def export_sessions(db: Db, participant_id: int) -> list[Section]:
    """Each session of their groups (or where anyone saw them): were they there, by whose word."""
    groups = select(Membership.group_id).where(Membership.participant_id == participant_id)
    seen = select(PresenceReport.session_id).where(PresenceReport.participant_id == participant_id)
    sessions = list(
        db.scalars(
            select(Session)
            .where(or_(Session.group_id.in_(groups), Session.id.in_(seen)))
            .order_by(Session.starts_at)
        )
    )
    facts = presence_by_session(db, sessions)
    records = []
    for session in sessions:
        fact = facts.get(session.id, {}).get(participant_id)
        records.append(
            {
                "session": session.title,
                "starts_at": session.starts_at,
                "status": session.status,
                "present": fact.present if fact is not None else None,
                "source": fact.source.value if fact is not None and fact.source else None,
                "minutes": fact.minutes if fact is not None else None,
            }
        )
    link = db.scalar(select(JoinLink).where(JoinLink.participant_id == participant_id))
    return [
        Section(
            key="attendance",
            title=_("Attendance"),
            records=records,
            labels={
                "session": _("Session"),
                "starts_at": _("Starts"),
                "status": _("Status"),
                "present": _("Present"),
                "source": _("Recorded by"),
                "minutes": _("Minutes"),
            },
        ),
        Section(
            key="join_link",
            title=_("Personal join link"),
            records=[]
            if link is None
            else [{"created_at": link.created_at, "revoked_at": link.revoked_at}],
            labels={"created_at": _("Made"), "revoked_at": _("Stopped")},
        ),
    ]


def erase_sessions(db: Db, participant_id: int) -> None:
    """The join link goes (every emailed link stops working); presence stays, anonymous."""
    db.execute(delete(JoinLink).where(JoinLink.participant_id == participant_id))


def erase_experts(db: Db, programme_id: int) -> None:
    """Speakers named on the programme's agenda slots: their names and emails go."""
    sessions = (
        select(Session.id)
        .join(Group, Group.id == Session.group_id)
        .where(Group.programme_id == programme_id)
    )
    db.execute(
        update(AgendaItem)
        .where(AgendaItem.session_id.in_(sessions))
        .values(speaker_name="", speaker_email="")
    )


register_personal_data(
    "sessions",
    tables=("presence_report", "join_link", "agenda_item"),
    export_participant=export_sessions,
    erase_participant=erase_sessions,
    erase_programme=erase_experts,
)
