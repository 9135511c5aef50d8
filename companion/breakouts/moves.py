"""Changing a draft round by hand: moving people between its groups, adding, renaming and
removing groups. Someone moved by hand stays where they are when the round is re-planned.
"""

from __future__ import annotations

from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.breakouts import rooms
from companion.breakouts.channel import publish_round
from companion.breakouts.drafts import default_group_name, find_member, new_member, require_draft
from companion.breakouts.models import BreakoutGroup, BreakoutRound
from companion.breakouts.people import person_for_key
from companion.core.db import Db
from companion.core.errors import Conflict, Invalid
from companion.programmes.models import Participant
from companion.sessions.attendance import mark_presence, marked_absent


def move_person(db: Db, round_: BreakoutRound, key: str, group_id: int | None) -> None:
    """Put someone in a group of the round (kept there when re-planned), or out of every group."""
    require_draft(round_)
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
    # Placing someone by hand says they are here after all: take back an absence mark.
    placed = isinstance(person, Participant) and target is not None
    if placed and person.id in marked_absent(db, round_.session_id):
        mark_presence(db, round_.session, person.id, None)
    if isinstance(person, Facilitator):
        ids = set(round_.settings.get("facilitator_ids") or []) | {person.id}
        round_.settings = {**round_.settings, "facilitator_ids": sorted(ids)}
    publish_round(db, round_)


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
