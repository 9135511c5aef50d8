"""The JSON API for sessions, the schedule, their life (end, reopen), presence and the agenda."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from companion.accounts.identity import require_facilitator
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.errors import NotFound
from companion.programmes import operations as programme_ops
from companion.programmes.models import Programme
from companion.sessions import agenda, attendance
from companion.sessions import operations as ops
from companion.sessions.models import AgendaItem, Session
from companion.sessions.presence import Presence
from companion.sessions.schemas import (
    AgendaItemIn,
    AgendaItemOut,
    AgendaItemPatch,
    AgendaOrderIn,
    PresenceMarkIn,
    PresenceOut,
    PresenceReportOut,
    ScheduleIn,
    SessionIn,
    SessionMove,
    SessionOut,
)

api = Blueprint("sessions_api", __name__, url_prefix="/api/v1")


def _session_out(session: Session) -> SessionOut:
    room = session.room
    return SessionOut.model_validate(
        {
            "id": session.id,
            "group_id": session.group_id,
            "title": session.title,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
            "duration_minutes": session.duration_minutes,
            "status": session.status,
            "state": ops.state_of(session),
            "platform": session.platform,
            "join_url": room.join_url if room else None,
            "agenda": [
                {
                    **AgendaItemOut.model_validate(slot.item).model_dump(),
                    "starts_at": slot.starts_at,
                }
                for slot in agenda.slots(session)
            ],
            "agenda_minutes": agenda.agenda_minutes(session.agenda),
        },
        from_attributes=True,
    )


def _programme_sessions(programme: Programme) -> list[Session]:
    return sorted((s for g in programme.groups for s in g.sessions), key=lambda s: s.starts_at)


@api.get("/programmes/<int:programme_id>/sessions")
@api_view(
    summary="List sessions", response=list[SessionOut], tags=("sessions",), auth="facilitator"
)
def api_sessions(programme_id: int) -> list[SessionOut]:
    """All sessions of the programme, soonest first."""
    facilitator = require_facilitator()
    programme = programme_ops.get_programme(get_db(), facilitator, programme_id)
    return [_session_out(s) for s in _programme_sessions(programme)]


@api.post("/programmes/<int:programme_id>/sessions")
@api_view(
    summary="Create a session",
    body=SessionIn,
    response=SessionOut,
    status=201,
    tags=("sessions",),
    auth="facilitator",
)
def api_create_session(programme_id: int, body: SessionIn) -> SessionOut:
    """One session at a local date and time in the programme's zone."""
    facilitator = require_facilitator()
    db = get_db()
    programme = programme_ops.get_programme(db, facilitator, programme_id)
    session = ops.create_session(db, programme, body, host=facilitator)
    db.commit()
    return _session_out(session)


@api.post("/programmes/<int:programme_id>/schedule")
@api_view(
    summary="Schedule a series of sessions",
    body=ScheduleIn,
    response=list[SessionOut],
    status=201,
    tags=("sessions",),
    auth="facilitator",
)
def api_schedule(programme_id: int, body: ScheduleIn) -> list[SessionOut]:
    """`count` sessions every `every_weeks` weeks at the same local time."""
    facilitator = require_facilitator()
    db = get_db()
    programme = programme_ops.get_programme(db, facilitator, programme_id)
    created = ops.create_schedule(db, programme, body, host=facilitator)
    db.commit()
    return [_session_out(s) for s in created]


@api.get("/sessions/<int:session_id>")
@api_view(summary="Get a session", response=SessionOut, tags=("sessions",), auth="facilitator")
def api_session(session_id: int) -> SessionOut:
    """One session with its agenda and room."""
    facilitator = require_facilitator()
    return _session_out(ops.get_session(get_db(), facilitator, session_id))


@api.patch("/sessions/<int:session_id>")
@api_view(
    summary="Move a session",
    body=SessionMove,
    response=SessionOut,
    tags=("sessions",),
    auth="facilitator",
)
def api_move_session(session_id: int, body: SessionMove) -> SessionOut:
    """A new local time for one session; the others stay."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.move_session(db, ops.get_session(db, facilitator, session_id), body)
    db.commit()
    return _session_out(session)


@api.post("/sessions/<int:session_id>/cancel")
@api_view(summary="Cancel a session", response=SessionOut, tags=("sessions",), auth="facilitator")
def api_cancel_session(session_id: int) -> SessionOut:
    """Call off one session."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.cancel_session(db, ops.get_session(db, facilitator, session_id))
    db.commit()
    return _session_out(session)


@api.post("/sessions/<int:session_id>/end")
@api_view(summary="End a session", response=SessionOut, tags=("sessions",), auth="facilitator")
def api_end_session(session_id: int) -> SessionOut:
    """Mark the session as held (possible once its join window opened; 409 before). Nothing
    is emailed: the summary waits for review, or goes out by itself later."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    ops.end_session(db, session, by="facilitator")
    db.commit()
    return _session_out(session)


@api.post("/sessions/<int:session_id>/reopen")
@api_view(
    summary="Reopen an ended session", response=SessionOut, tags=("sessions",), auth="facilitator"
)
def api_reopen_session(session_id: int) -> SessionOut:
    """Undo an ending until the summary has gone out (409 after)."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.reopen_session(db, ops.get_session(db, facilitator, session_id))
    db.commit()
    return _session_out(session)


def presence_out(participant_id: int, fact: Presence) -> PresenceOut:
    """One person's presence fact as the API shows it."""
    return PresenceOut(
        participant_id=participant_id,
        present=fact.present,
        source=fact.source.value if fact.source else None,
        first_seen_at=fact.first_seen_at,
        minutes=fact.minutes,
        reports=[
            PresenceReportOut(
                source=report.source.value,
                present=report.present,
                first_seen_at=report.first_seen_at,
                minutes=report.minutes,
            )
            for report in fact.reports
        ],
    )


@api.get("/sessions/<int:session_id>/attendance")
@api_view(
    summary="Presence at a session",
    response=list[PresenceOut],
    tags=("sessions",),
    auth="facilitator",
)
def api_attendance(session_id: int) -> list[PresenceOut]:
    """Each member's presence: the one fact and the reports of each source behind it."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    facts = attendance.presence_of(db, session)
    return [presence_out(pid, facts[pid]) for pid in sorted(facts)]


@api.put("/sessions/<int:session_id>/attendance")
@api_view(
    summary="Correct one person's presence",
    body=PresenceMarkIn,
    response=PresenceOut,
    tags=("sessions",),
    auth="facilitator",
)
def api_mark_presence(session_id: int, body: PresenceMarkIn) -> PresenceOut:
    """The facilitator's mark, which overrides every other source ("clear" takes it back)."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    ops.mark_presence(db, session, body.participant_id, body.mark, by=facilitator.id)
    db.commit()
    return presence_out(
        body.participant_id, attendance.presence_of(db, session)[body.participant_id]
    )


@api.post("/sessions/<int:session_id>/agenda")
@api_view(
    summary="Add an agenda item",
    body=AgendaItemIn,
    response=SessionOut,
    status=201,
    tags=("sessions",),
    auth="facilitator",
)
def api_add_agenda(session_id: int, body: AgendaItemIn) -> SessionOut:
    """Append a slot (422 on `duration_minutes` if the agenda would grow beyond the
    session's length; the default expert-talk slot is edited with PATCH instead)."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    agenda.add_agenda_item(db, session, body)
    db.commit()
    return _session_out(session)


def _agenda_item(item_id: int) -> AgendaItem:
    """The agenda item if the signed-in facilitator may manage its session."""
    facilitator = require_facilitator()
    db = get_db()
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(_("No such agenda item."))
    ops.get_session(db, facilitator, item.session_id)
    return item


@api.patch("/agenda/<int:item_id>")
@api_view(
    summary="Change an agenda item",
    body=AgendaItemPatch,
    response=SessionOut,
    tags=("sessions",),
)
def api_update_agenda(item_id: int, body: AgendaItemPatch) -> SessionOut:
    """Change the fields given (kind, title, minutes, speaker, material link, description);
    422 on `duration_minutes` if the agenda would grow beyond the session's length."""
    item = _agenda_item(item_id)
    db = get_db()
    agenda.update_agenda_item(db, item, body.model_dump(exclude_unset=True, exclude_none=True))
    db.commit()
    return _session_out(item.session)


@api.delete("/agenda/<int:item_id>")
@api_view(summary="Remove an agenda item", response=SessionOut, tags=("sessions",))
def api_remove_agenda(item_id: int) -> SessionOut:
    """Take a slot off the agenda; the others close up."""
    item = _agenda_item(item_id)
    session = item.session
    db = get_db()
    agenda.remove_agenda_item(db, item)
    db.commit()
    return _session_out(session)


@api.put("/sessions/<int:session_id>/agenda/order")
@api_view(summary="Reorder the agenda", body=AgendaOrderIn, response=SessionOut, tags=("sessions",))
def api_reorder_agenda(session_id: int, body: AgendaOrderIn) -> SessionOut:
    """Put the agenda items in the order given (every item of the session once)."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    agenda.reorder_agenda(db, session, body.item_ids)
    db.commit()
    return _session_out(session)
