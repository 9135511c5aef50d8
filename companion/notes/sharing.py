"""Sharing a breakout group's notes with the whole session (the plenary)."""

from __future__ import annotations

from flask_babel import gettext as _

from companion.accounts.identity import Actor
from companion.core.db import Db, utcnow
from companion.core.errors import Invalid, NotAllowed
from companion.core.events import append_event
from companion.notes.access import can_write, channel_for
from companion.notes.models import NoteSpace
from companion.notes.payloads import publish


def share_space(db: Db, actor: Actor, space: NoteSpace, shared: bool) -> NoteSpace:
    """Let everyone in the session read a breakout group's notes (or take that back)."""
    if space.is_plenary:
        raise Invalid(_("The whole group's notes are already shared with everyone."))
    if not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can share its notes."))
    if space.shared_to_plenary == shared:
        return space
    space.shared_to_plenary = shared
    space.shared_at = utcnow() if shared else None
    db.flush()
    data = {"space_id": space.id, "shared": shared, "breakout_group_id": space.breakout_group_id}
    publish(db, space, "space.shared", data)
    # The plenary page lists shared groups; tell it too.
    append_event(db, channel_for(space.session_id, None), "space.shared", data)
    return space
