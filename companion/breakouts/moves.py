"""Changing a round's groups by hand: moving people between the groups of a draft, or of a
running round (latecomers placed, people moved; see `status.require_movable`); adding, renaming
and removing groups of a draft. Someone moved by hand stays where they are when the round is
re-planned.
"""

from __future__ import annotations

from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.breakouts import rooms
from companion.breakouts.channel import publish_round
from companion.breakouts.drafts import default_group_name, find_member, new_member, require_draft
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundStatus
from companion.breakouts.people import person_for_key
from companion.breakouts.status import require_movable
from companion.core.db import Db
from companion.core.errors import Conflict, Invalid
from companion.programmes.models import Participant
from companion.sessions.attendance import mark_presence, marked_absent


def move_person(db: Db, round_: BreakoutRound, key: str, group_id: int | None) -> None:
    """Put someone in a group of the round (kept there when re-planned), or out of every group.

    In a running round this places a latecomer (or someone marked absent) or moves someone to
    another group; the platform is told where it can be, and the person's phone and side panel
    follow the round's live channel."""
    require_movable(round_, taking_out=group_id is None)
    person = person_for_key(db, round_.session, key)
    target = None
    if group_id is not None:
        target = next((g for g in round_.groups if g.id == group_id), None)
        if target is None:
            raise Invalid(errors={"group_id": _("Choose a group of this round.")})
    member = find_member(round_, key)
    if target is None:
        if member is not None:
            member.group.members.remove(member)
            db.delete(member)
    elif member is None:
        member = new_member(round_, target, key)
        member.fixed, member.source = True, "moved"
        db.add(member)
    else:
        if member.group_id != target.id:
            member.group.members.remove(member)
            member.group = target
        # Even "move to where they are" says: keep them here.
        member.fixed, member.source = True, "moved"
    # Placing someone by hand says they are here after all: take back an absence mark. (In a
    # round that runs, their seat then counts them present, by the session's presence fact.)
    placed = isinstance(person, Participant) and target is not None
    if placed and person.id in marked_absent(db, round_.session_id):
        mark_presence(db, round_.session, person.id, None)
    if isinstance(person, Facilitator):
        ids = set(round_.settings.get("facilitator_ids") or []) | {person.id}
        round_.settings = {**round_.settings, "facilitator_ids": sorted(ids)}
    if round_.status == RoundStatus.STARTED:
        _follow_on_platform(db, round_)
    publish_round(db, round_)


def _follow_on_platform(db: Db, round_: BreakoutRound) -> None:
    """A running round changed: Zoom's pre-assignment is sent again (Zoom applies it when its
    breakout rooms are opened; the round page says so); with rooms per group (Jitsi) every
    group has its room, and the person's page gives them the new group's link."""
    mode = rooms.room_mode(db, round_.session)
    if mode == "push":
        rooms.push_round(db, round_)
    elif mode == "rooms":
        rooms.ensure_group_rooms(db, round_)


def release_person(db: Db, round_: BreakoutRound, key: str) -> None:
    """Let the optimiser move someone again on the next re-plan."""
    require_draft(round_)
    member = find_member(round_, key)
    if member is None:
        raise Invalid(errors={"person": _("This person is not in a group.")})
    member.fixed = False
    db.flush()


def add_group(db: Db, round_: BreakoutRound, name: str = "") -> BreakoutGroup:
    """An empty group at the end of the round."""
    require_draft(round_)
    programme = round_.session.group.programme
    position = len(round_.groups)
    group = BreakoutGroup(name=name or default_group_name(programme, position), position=position)
    round_.groups.append(group)
    publish_round(db, round_)
    return group


def rename_group(db: Db, group: BreakoutGroup, name: str) -> None:
    """A new name (platforms show it; Zoom needs it unique in the round)."""
    if not name:
        raise Invalid(errors={"name": _("This field is required.")})
    if any(g.name.casefold() == name.casefold() for g in group.round.groups if g is not group):
        raise Invalid(errors={"name": _("Another group of this round has this name.")})
    group.name = name
    rooms.sync_breakouts(db, group.round.session)  # a pushing platform shows the names
    publish_round(db, group.round)


def remove_group(db: Db, group: BreakoutGroup) -> None:
    """Remove an empty group of a draft round."""
    round_ = group.round
    require_draft(round_)
    if group.members:
        raise Conflict(_("Move the group's people elsewhere before removing it."))
    rooms.drop_group_room(db, group)
    round_.groups.remove(group)
    db.delete(group)
    for position, other in enumerate(round_.groups):
        other.position = position
    publish_round(db, round_)
