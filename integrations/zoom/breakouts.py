"""Breakout rooms: pre-assign a round in a session's Zoom meeting (NOTES §2.2).

Like every operations module here: no `flask.request`; the caller commits and checks access.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _

from companion.breakouts.rooms import HELD
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid
from companion.meetings import operations as rooms
from companion.meetings.platform import (
    BreakoutGroupSpec,
    BreakoutPushResult,
    Person,
    PlatformError,
    groups_fingerprint,
)
from companion.programmes.models import Participant
from companion.sessions.models import Session
from integrations.zoom.errors import ZoomError
from integrations.zoom.session_meeting import as_room, domain_error, require_zoom_session


def breakout_groups(
    named: Sequence[tuple[str, Sequence[Participant]]],
) -> list[BreakoutGroupSpec]:
    """Breakout groups as the platform takes them, from (name, participants) pairs."""
    return [
        BreakoutGroupSpec(
            name=name, members=tuple(Person(p.id, p.name, p.email or "") for p in members)
        )
        for name, members in named
    ]


def push_breakout_round(
    db: Db, session: Session, groups: Sequence[BreakoutGroupSpec]
) -> BreakoutPushResult:
    """Pre-assign a (locked) breakout round in the session's Zoom meeting.

    Limits are checked before anything is sent; people Zoom cannot place are listed in the
    result and kept on the room for the facilitator to see.
    """
    require_zoom_session(session)
    row = session.room
    if row is None:
        raise Conflict(_("The session's Zoom meeting is not ready yet. Create it first."))
    platform = rooms.platform_for(db, session, rooms.host_of(db, row))
    try:
        result = platform.push_breakouts(as_room(row), groups)
    except ZoomError as exc:
        raise domain_error(exc) from None
    except PlatformError as exc:
        raise Invalid(exc.message) from None
    pushed_at = utcnow().isoformat()
    row.data = {
        **row.data,
        "breakouts": {
            "pushed_at": pushed_at,
            "rooms": [{"name": g.name, "people": len(g.members)} for g in groups],
            "unmatched": [p.name for p in result.unmatched],
        },
        # Zoom now holds these groups, not a round's: the breakout pages say so.
        HELD: {
            "round_id": None,
            "round_number": None,
            "fingerprint": groups_fingerprint(groups),
            "pushed_at": pushed_at,
        },
    }
    db.flush()
    return result
