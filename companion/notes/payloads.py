"""Authors and payloads: notes, summaries, action items and whole spaces as pages, the API and
live events carry them.

Every write appends a live event on the space's channel ("notes:<session>" for the plenary,
"notes:<session>:<breakout group>") with `publish`; it goes out after commit, so open pages
update live.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.core.events import append_event, current_seq
from companion.notes.access import can_write, channel_of, session_members, space_label
from companion.notes.markdown import render_markdown
from companion.notes.models import ActionItem, NoteItem, NoteSpace
from companion.notes.schemas import (
    ActionOut,
    AuthorOut,
    NoteItemOut,
    OwnerOut,
    SpaceOut,
    SummaryOut,
    ViewerOut,
)
from companion.programmes.models import Participant


def author_columns(actor: Actor) -> dict[str, int | None]:
    """The actor as a row's author columns: a participant's or a facilitator's id."""
    return {
        "participant_id": actor.participant.id if actor.participant else None,
        "facilitator_id": actor.facilitator.id if actor.facilitator else None,
    }


def author_out(participant: Participant | None, facilitator: Facilitator | None) -> AuthorOut:
    """The author as others see them (an empty name when the person has been erased)."""
    if facilitator is not None:
        return AuthorOut(name=facilitator.name, is_facilitator=True)
    if participant is not None:
        return AuthorOut(name=participant.name, participant_id=participant.id)
    return AuthorOut(name="")


def item_out(item: NoteItem) -> NoteItemOut:
    """A note item as pages, the API and live events carry it."""
    return NoteItemOut(
        id=item.id,
        space_id=item.space_id,
        body=item.body,
        html=item.html,
        author=author_out(item.author_participant, item.author_facilitator),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def summary_out(space: NoteSpace) -> SummaryOut:
    """The current summary of the space."""
    latest = space.revisions[-1] if space.revisions else None
    return SummaryOut(
        text=space.summary,
        html=render_markdown(space.summary),
        revision=space.summary_revision,
        updated_at=space.summary_updated_at,
        updated_by=author_out(latest.author_participant, latest.author_facilitator)
        if latest
        else None,
    )


def action_out(action: ActionItem) -> ActionOut:
    """An action item with its owner's name and session title."""
    return ActionOut(
        id=action.id,
        session_id=action.session_id,
        session_title=action.session.title,
        space_id=action.space_id,
        owner_id=action.owner_id,
        owner_name=action.owner.name,
        text=action.text,
        due_on=action.due_on,
        done=action.done,
        done_at=action.done_at,
        created_at=action.created_at,
    )


def space_actions(db: Db, space: NoteSpace) -> list[ActionItem]:
    """Action items written in the space, open ones first."""
    actions = db.scalars(select(ActionItem).where(ActionItem.space_id == space.id))
    return sorted(actions, key=lambda a: (a.done, a.due_on is None, a.due_on, a.id))


def space_view(db: Db, actor: Actor, space: NoteSpace) -> SpaceOut:
    """The space for one caller of the API: with the seq it reflects and what they may do."""
    # The seq is read before the data: an event landing in between is then in the data and
    # replayed too, which is harmless since events carry whole objects.
    seq = current_seq(db, channel_of(space))
    out = space_out(db, space)
    out.seq = seq
    writer = can_write(db, actor, space)
    out.viewer = ViewerOut(
        participant_id=actor.participant.id if actor.participant else None,
        is_facilitator=actor.is_facilitator,
        can_write=writer,
        owners=(
            [OwnerOut(id=p.id, name=p.name) for p in session_members(space.session)]
            if writer
            else []
        ),
    )
    return out


def space_out(db: Db, space: NoteSpace) -> SpaceOut:
    """Everything in a space, as the API, the live snapshot and the polling fallback give it."""
    siblings = db.scalars(select(NoteSpace).where(NoteSpace.session_id == space.session_id))
    return SpaceOut(
        id=space.id,
        session_id=space.session_id,
        breakout_group_id=space.breakout_group_id,
        label=space_label(space, list(siblings)),
        channel=channel_of(space),
        timezone=space.session.group.programme.timezone,
        shared_to_plenary=space.shared_to_plenary,
        items=[item_out(item) for item in space.items],
        summary=summary_out(space),
        actions=[action_out(a) for a in space_actions(db, space)],
    )


def publish(db: Db, space: NoteSpace, kind: str, data: dict[str, Any]) -> None:
    """Append a live event to the space's channel (sent out after commit)."""
    append_event(db, channel_of(space), kind, data)
