"""Inviting an expert to a talk slot, their link (renew, revoke), their choices, and access.

Writes never commit: the views, the API and the worker do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotFound
from companion.experts import mail
from companion.experts.links import new_nonce
from companion.experts.models import Expert
from companion.experts.schemas import ExpertIn, TalkIn
from companion.sessions import lifecycle
from companion.sessions import operations as session_ops
from companion.sessions.models import AgendaItem, AgendaKind, Session


def item_for_facilitator(db: Db, facilitator: Facilitator, item_id: int) -> AgendaItem:
    """The agenda item if the facilitator may manage its session (NotFound otherwise)."""
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(_("No such agenda item."))
    session_ops.get_session(db, facilitator, item.session_id)
    return item


def expert_of(db: Db, item: AgendaItem) -> Expert | None:
    """The expert invited to the slot, if any (also a revoked one)."""
    return db.scalar(select(Expert).where(Expert.agenda_item_id == item.id))


def experts_of(db: Db, session: Session) -> list[Expert]:
    """The session's experts whose links work, in agenda order."""
    ids = [item.id for item in session.agenda]
    if not ids:
        return []
    found = db.scalars(
        select(Expert).where(Expert.agenda_item_id.in_(ids), Expert.revoked_at.is_(None))
    )
    order = {item_id: index for index, item_id in enumerate(ids)}
    return sorted(found, key=lambda e: order[e.agenda_item_id])


def _require_coming(session: Session) -> None:
    state = session_ops.state_of(session)
    if not lifecycle.is_coming(state):
        raise Conflict(
            _("The session is cancelled or has taken place, so nobody can be invited to it.")
        )


def invite_expert(
    db: Db,
    config: Config,
    item: AgendaItem,
    data: ExpertIn,
    *,
    invited_by: Facilitator | None = None,
) -> Expert:
    """Invite an expert to an expert-talk slot: they become its speaker and get an email with
    their personal link. Inviting someone else to the slot stops the previous expert's link;
    inviting the same address again sends the invitation again with the same link."""
    if item.kind != AgendaKind.EXPERT_TALK:
        raise Conflict(_("Experts are invited to an expert talk. Change the slot's kind first."))
    _require_coming(item.session)
    expert = expert_of(db, item)
    if expert is None:
        expert = Expert(agenda_item=item, nonce=new_nonce(), name=data.name, email=data.email)
        db.add(expert)
    elif expert.email != data.email or expert.revoked_at is not None:
        # Someone else (or a link taken back): the old link must not open the slot any more.
        expert.nonce = new_nonce()
        expert.revoked_at = None
        expert.seen_at = None
        expert.reminders = True
        expert.status, expert.responded_at = "invited", None
        expert.bio, expert.timezone = "", ""
    if expert.status == "declined":
        expert.status, expert.responded_at = "invited", None  # asked again: a new answer
    expert.name, expert.email, expert.language = data.name, data.email, data.language
    item.speaker_name, item.speaker_email = data.name, data.email
    expert.invited_at = utcnow()
    db.flush()
    mail.queue_invitation(db, config, expert, invited_by=invited_by)
    return expert


def renew_link(db: Db, config: Config, expert: Expert) -> Expert:
    """A new link for the expert (the old one stops working), sent to them again."""
    _require_coming(expert.agenda_item.session)
    expert.nonce = new_nonce()
    expert.revoked_at = None
    expert.invited_at = utcnow()
    db.flush()
    mail.queue_invitation(db, config, expert, invited_by=None)
    return expert


def revoke_expert(db: Db, expert: Expert) -> Expert:
    """Stop the expert's link; the slot keeps its speaker's name until it is edited."""
    expert.revoked_at = utcnow()
    db.flush()
    return expert


def answer_invitation(db: Db, expert: Expert, answer: str, now: datetime | None = None) -> None:
    """The expert confirms or declines. Participants see a speaker who has not declined: a
    decline takes their name off the slot, a later confirmation puts it back."""
    _require_coming(expert.agenda_item.session)
    item = expert.agenda_item
    expert.status = "confirmed" if answer == "confirm" else "declined"
    expert.responded_at = now or utcnow()
    if expert.status == "declined":
        if item.speaker_email == expert.email:
            item.speaker_name, item.speaker_email = "", ""
    else:
        item.speaker_name, item.speaker_email = expert.name, expert.email
    db.flush()


def describe_talk(db: Db, expert: Expert, data: TalkIn) -> None:
    """The expert's title and abstract become the slot's; the bio is theirs."""
    if expert.status == "declined":
        raise Conflict(_("You have declined this talk. Confirm it first to describe it."))
    item = expert.agenda_item
    item.title, item.description = data.title, data.abstract
    expert.bio = data.bio
    db.flush()


def set_timezone(db: Db, expert: Expert, zone: str) -> None:
    """The zone the expert reads times in (their page and their emails)."""
    expert.timezone = zone
    db.flush()


def set_reminders(db: Db, expert: Expert, on: bool) -> None:
    """The expert's choice whether to get the session's reminders."""
    expert.reminders = on
    db.flush()


def set_material_link(db: Db, item: AgendaItem, url: str) -> None:
    """The talk's material as a link (https), or no link when empty."""
    item.material_url = url
    db.flush()


def mark_seen(db: Db, expert: Expert, now: datetime | None = None) -> None:
    """Remember when the expert last opened their page (at most once a minute)."""
    now = now or utcnow()
    if expert.seen_at is None or now - expert.seen_at > timedelta(minutes=1):
        expert.seen_at = now
        db.flush()


def join_window(config: Config, session: Session) -> tuple[datetime, datetime]:
    """When the session's room takes people in: from `join_opens_minutes` before the start to
    `join_closes_minutes` after the scheduled end (as for participants' links)."""
    return (
        session.starts_at - timedelta(minutes=config.join_opens_minutes),
        session.ends_at + timedelta(minutes=config.join_closes_minutes),
    )


def can_join_now(config: Config, session: Session, now: datetime | None = None) -> bool:
    """Whether the expert's join button forwards to the room now."""
    now = now or utcnow()
    opens, closes = join_window(config, session)
    return lifecycle.is_coming(session_ops.state_of(session, now)) and opens <= now <= closes
