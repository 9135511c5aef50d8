"""Notes, summaries and action items: every write and every access rule.

Who may do what: facilitators of the programme everything; participants of the session's
group read and write the plenary notes; a breakout group's notes are read and written by its
members (see `membership.group_members_of`) and read by everyone in the session once shared to
the plenary. Authors edit and delete their own items; facilitators edit all.

Every write appends a live event on the space's channel ("notes:<session>" for the plenary,
"notes:<session>:<breakout group>"), published after commit, so open pages update live.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.core.events import append_event, current_seq, events_since, register_channel
from companion.notes import membership
from companion.notes.markdown import render_markdown
from companion.notes.models import ActionItem, NoteItem, NoteSpace, SummaryRevision, scope_of
from companion.notes.schemas import (
    ActionIn,
    ActionOut,
    ActionPatch,
    AuthorOut,
    NoteItemIn,
    NoteItemOut,
    OwnerOut,
    RevisionOut,
    SpaceEventsOut,
    SpaceOut,
    SummaryIn,
    SummaryOut,
    ViewerOut,
)
from companion.programmes.models import Participant
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor

#: Prefix of the notes' live channels.
CHANNEL_PREFIX = "notes"


# --- spaces and access ------------------------------------------------------------------------


def channel_of(space: NoteSpace) -> str:
    """The live channel of a space: "notes:<session>" or "notes:<session>:<group>"."""
    return channel_for(space.session_id, space.breakout_group_id)


def channel_for(session_id: int, breakout_group_id: int | None) -> str:
    """The live channel of a session's plenary or breakout notes."""
    if breakout_group_id is None:
        return f"{CHANNEL_PREFIX}:{session_id}"
    return f"{CHANNEL_PREFIX}:{session_id}:{breakout_group_id}"


def find_space(db: Db, session_id: int, breakout_group_id: int | None) -> NoteSpace | None:
    """The space if it has been opened already."""
    return db.scalar(
        select(NoteSpace).where(
            NoteSpace.session_id == session_id, NoteSpace.scope == scope_of(breakout_group_id)
        )
    )


def ensure_space(
    db: Db, session: Session, breakout_group_id: int | None = None, *, label: str = ""
) -> NoteSpace:
    """The session's plenary or breakout space, made on first use (once, even when raced)."""
    space = find_space(db, session.id, breakout_group_id)
    if space is not None:
        return space
    if not label and breakout_group_id is not None:
        label = membership.breakout_group_label(db, session, breakout_group_id) or ""
    space = NoteSpace(
        session_id=session.id,
        breakout_group_id=breakout_group_id,
        scope=scope_of(breakout_group_id),
        label=label,
    )
    try:
        with db.begin_nested():
            db.add(space)
            db.flush()
    except IntegrityError:
        # Someone else opened it at the same moment; the unique scope made theirs the one.
        space = find_space(db, session.id, breakout_group_id)
        if space is None:
            raise
    return space


def is_group_member(db: Db, space: NoteSpace, participant: Participant) -> bool:
    """Whether the participant belongs to the space's breakout group (everyone: the plenary)."""
    if space.breakout_group_id is None:
        return True
    members = membership.group_members_of(db, space.session, space.breakout_group_id)
    return members is not None and participant.id in members


def can_read(db: Db, actor: Actor, space: NoteSpace) -> bool:
    """Read access, given that the actor already passed the session check."""
    if actor.facilitator is not None:
        return True
    participant = actor.participant
    if participant is None:
        return False
    return space.shared_to_plenary or is_group_member(db, space, participant)


def can_write(db: Db, actor: Actor, space: NoteSpace) -> bool:
    """Write access (add items, save the summary, add actions), after the session check."""
    if actor.facilitator is not None:
        return True
    participant = actor.participant
    return participant is not None and is_group_member(db, space, participant)


def space_for_actor(db: Db, actor: Actor, space_id: int, *, write: bool = False) -> NoteSpace:
    """The space if the actor may read it (and write, if asked); NotFound for strangers."""
    space = db.get(NoteSpace, space_id)
    if space is None:
        raise NotFound(_("No such notes."))
    session_for_actor(db, actor, space.session_id)
    if not can_read(db, actor, space):
        raise NotFound(_("No such notes."))
    if write and not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    return space


def session_space(
    db: Db,
    actor: Actor,
    session_id: int,
    breakout_group_id: int | None = None,
    *,
    mine: bool = False,
) -> NoteSpace:
    """A session's plenary or breakout space for the actor, opened on first use. With `mine`
    and no group: a participant's group in the round running now, else the plenary."""
    session = session_for_actor(db, actor, session_id)
    if breakout_group_id is None and mine and actor.participant is not None:
        breakout_group_id = membership.running_breakout_group(db, session, actor.participant.id)
    space = find_space(db, session.id, breakout_group_id)
    if space is None:
        may_open = actor.facilitator is not None or (
            actor.participant is not None
            and (
                breakout_group_id is None
                or actor.participant.id
                in (membership.group_members_of(db, session, breakout_group_id) or set())
            )
        )
        if not may_open:
            raise NotFound(_("No such notes."))
        space = ensure_space(db, session, breakout_group_id)
    if not can_read(db, actor, space):
        raise NotFound(_("No such notes."))
    return space


def open_own_spaces(db: Db, actor: Actor, session: Session) -> None:
    """Open the notes of a participant's own breakout groups in the session (announced rounds
    only), so that the notes page offers them before anyone has written there."""
    if actor.participant is None:
        return
    for group_id in membership.own_breakout_groups(db, session, actor.participant.id):
        ensure_space(db, session, group_id)


def visible_spaces(db: Db, actor: Actor, session: Session) -> list[NoteSpace]:
    """The session's spaces the actor may read: the plenary first, then breakout groups."""
    spaces = db.scalars(select(NoteSpace).where(NoteSpace.session_id == session.id))
    readable = [s for s in spaces if can_read(db, actor, s)]
    return sorted(readable, key=lambda s: (s.breakout_group_id is not None, s.breakout_group_id))


def space_label(space: NoteSpace, siblings: Iterable[NoteSpace] = ()) -> str:
    """A name for the space: its own, or "Small group n" by its place among the session's."""
    if space.is_plenary:
        return str(_("Whole group"))
    if space.label:
        return space.label
    numbers = sorted(s.breakout_group_id for s in siblings if s.breakout_group_id is not None)
    if space.breakout_group_id in numbers:
        return str(_("Small group %(n)s", n=numbers.index(space.breakout_group_id) + 1))
    return str(_("Small group"))


# --- authors and payloads ---------------------------------------------------------------------


def _author_columns(actor: Actor) -> dict[str, int | None]:
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


def _publish(db: Db, space: NoteSpace, kind: str, data: dict[str, Any]) -> None:
    append_event(db, channel_of(space), kind, data)


# --- note items -------------------------------------------------------------------------------


def _rendered(body: str) -> str:
    html = render_markdown(body)
    if not html:
        raise Invalid(errors={"body": _("The note is empty once unsafe parts are removed.")})
    return html


def add_item(db: Db, actor: Actor, space: NoteSpace, data: NoteItemIn) -> NoteItem:
    """Add a note item by the actor."""
    if not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    author = _author_columns(actor)
    now = utcnow()
    item = NoteItem(
        space_id=space.id,
        body=data.body,
        html=_rendered(data.body),
        author_participant_id=author["participant_id"],
        author_facilitator_id=author["facilitator_id"],
        created_at=now,
        updated_at=now,
    )
    db.add(item)
    db.flush()
    db.refresh(item)
    _publish(db, space, "item.added", item_out(item).model_dump(mode="json"))
    return item


def item_for_actor(db: Db, actor: Actor, item_id: int, *, write: bool = False) -> NoteItem:
    """The item if the actor may read it; with `write`, only its author or a facilitator."""
    item = db.get(NoteItem, item_id)
    if item is None:
        raise NotFound(_("No such note."))
    space_for_actor(db, actor, item.space_id)
    if write:
        own = actor.participant is not None and item.author_participant_id == actor.participant.id
        if actor.facilitator is None and not own:
            raise NotAllowed(_("You can change only your own notes."))
    return item


def edit_item(db: Db, actor: Actor, item: NoteItem, data: NoteItemIn) -> NoteItem:
    """Change an item's text (its author or a facilitator)."""
    item_for_actor(db, actor, item.id, write=True)
    item.body = data.body
    item.html = _rendered(data.body)
    item.updated_at = utcnow()
    db.flush()
    _publish(db, item.space, "item.updated", item_out(item).model_dump(mode="json"))
    return item


def delete_item(db: Db, actor: Actor, item: NoteItem) -> None:
    """Remove an item (its author or a facilitator)."""
    item_for_actor(db, actor, item.id, write=True)
    space = item.space
    space.items.remove(item)
    db.delete(item)
    db.flush()
    _publish(db, space, "item.deleted", {"id": item.id, "space_id": space.id})


# --- the summary ------------------------------------------------------------------------------


def suggest_merge(theirs: str, mine: str) -> str:
    """A starting point for merging: their text, then the lines of mine that it lacks."""
    present = {line.strip() for line in theirs.splitlines() if line.strip()}
    missing = [line for line in mine.splitlines() if line.strip() and line.strip() not in present]
    if not missing:
        return theirs
    if not theirs.strip():
        return "\n".join(missing)
    return theirs.rstrip() + "\n\n" + "\n".join(missing)


def _summary_conflict(space: NoteSpace, text: str, base_revision: int) -> Conflict:
    return Conflict(
        _(
            "Someone saved the summary while you were editing. "
            "Merge your text with theirs and save again."
        ),
        current_text=space.summary,
        current_revision=space.summary_revision,
        your_text=text,
        base_revision=base_revision,
        merged_text=suggest_merge(space.summary, text),
    )


def save_summary(db: Db, actor: Actor, space: NoteSpace, data: SummaryIn) -> NoteSpace:
    """Save a new summary revision; Conflict (409, both texts) if it was based on an old one."""
    if not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    text = data.text.replace("\r\n", "\n")
    base = data.base_revision
    if base != space.summary_revision:
        if text == space.summary:
            return space  # the same text saved twice (a double click): nothing to merge
        raise _summary_conflict(space, text, base)
    now = utcnow()
    # Compare-and-set: of two saves on one revision exactly one matches the WHERE; the other
    # sees no row (PostgreSQL re-checks the condition after waiting for the first one's lock).
    result = db.execute(
        update(NoteSpace)
        .where(NoteSpace.id == space.id, NoteSpace.summary_revision == base)
        .values(summary=text, summary_revision=base + 1, summary_updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.refresh(space)
    if getattr(result, "rowcount", 0) != 1:
        raise _summary_conflict(space, text, base)
    author = _author_columns(actor)
    db.add(
        SummaryRevision(
            space_id=space.id,
            number=base + 1,
            text=text,
            author_participant_id=author["participant_id"],
            author_facilitator_id=author["facilitator_id"],
            created_at=now,
        )
    )
    db.flush()
    db.refresh(space)
    _publish(db, space, "summary.saved", summary_out(space).model_dump(mode="json"))
    return space


def revisions_of(space: NoteSpace) -> list[RevisionOut]:
    """Every saved version of the summary, newest first."""
    return [
        RevisionOut(
            number=r.number,
            text=r.text,
            author=author_out(r.author_participant, r.author_facilitator),
            created_at=r.created_at,
        )
        for r in reversed(space.revisions)
    ]


# --- sharing to the plenary -------------------------------------------------------------------


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
    _publish(db, space, "space.shared", data)
    # The plenary page lists shared groups; tell it too.
    append_event(db, channel_for(space.session_id, None), "space.shared", data)
    return space


# --- action items -----------------------------------------------------------------------------


def _session_member(session: Session, participant_id: int) -> Participant:
    for membership_row in session.group.memberships:
        if membership_row.participant_id == participant_id:
            return membership_row.participant
    raise Invalid(errors={"owner_id": _("Choose a participant of this session.")})


def session_members(session: Session) -> list[Participant]:
    """The participants of the session's group, by name."""
    return sorted((m.participant for m in session.group.memberships), key=lambda p: p.name.lower())


def add_action(db: Db, actor: Actor, space: NoteSpace, data: ActionIn) -> ActionItem:
    """Record an action item for a participant of the session."""
    if not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    session = space.session
    owner = _session_member(session, data.owner_id)
    author = _author_columns(actor)
    action = ActionItem(
        programme_id=session.group.programme_id,
        session_id=session.id,
        space_id=space.id,
        owner_id=owner.id,
        text=data.text,
        due_on=data.due_on,
        created_by_participant_id=author["participant_id"],
        created_by_facilitator_id=author["facilitator_id"],
        created_at=utcnow(),
    )
    db.add(action)
    db.flush()
    db.refresh(action)
    _publish(db, space, "action.added", action_out(action).model_dump(mode="json"))
    return action


def action_for_actor(db: Db, actor: Actor, action_id: int, *, write: bool = False) -> ActionItem:
    """The action if the actor may see it: its owner, readers of its notes, facilitators.

    Changing it is for the owner, whoever may write in its notes, and facilitators.
    """
    action = db.get(ActionItem, action_id)
    if action is None:
        raise NotFound(_("No such action item."))
    session_for_actor(db, actor, action.session_id)
    if actor.facilitator is not None:
        return action
    participant = actor.participant
    assert participant is not None  # session_for_actor accepted someone
    if action.owner_id == participant.id:
        return action
    space = db.get(NoteSpace, action.space_id) if action.space_id else None
    if space is None or not can_read(db, actor, space):
        raise NotFound(_("No such action item."))
    if write and not can_write(db, actor, space):
        raise NotAllowed(_("Only the owner can change this action item."))
    return action


def update_action(db: Db, actor: Actor, action: ActionItem, data: ActionPatch) -> ActionItem:
    """Change an action item: tick it done, reword it, move its date or owner."""
    action_for_actor(db, actor, action.id, write=True)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("owner_id") is not None:
        action.owner_id = _session_member(action.session, changes["owner_id"]).id
    if changes.get("text"):
        action.text = changes["text"]
    if "due_on" in changes:
        action.due_on = changes["due_on"]
    if changes.get("done") is not None and changes["done"] != action.done:
        action.done = bool(changes["done"])
        action.done_at = utcnow() if action.done else None
    db.flush()
    db.refresh(action)
    space = db.get(NoteSpace, action.space_id) if action.space_id else None
    if space is not None:
        _publish(db, space, "action.updated", action_out(action).model_dump(mode="json"))
    return action


def delete_action(db: Db, actor: Actor, action: ActionItem) -> None:
    """Remove an action item."""
    action_for_actor(db, actor, action.id, write=True)
    space = db.get(NoteSpace, action.space_id) if action.space_id else None
    db.delete(action)
    db.flush()
    if space is not None:
        _publish(db, space, "action.deleted", {"id": action.id, "space_id": space.id})


def actions_of(db: Db, participant: Participant) -> list[ActionItem]:
    """The participant's own action items across the programme: open first, by due date."""
    actions = db.scalars(select(ActionItem).where(ActionItem.owner_id == participant.id))
    return sorted(actions, key=lambda a: (a.done, a.due_on is None, a.due_on, a.created_at, a.id))


# --- live -------------------------------------------------------------------------------------


def space_events(db: Db, space: NoteSpace, after: int) -> SpaceEventsOut:
    """Events after `after` on the space's channel, or a snapshot when too far behind."""
    channel = channel_of(space)
    seq = current_seq(db, channel)
    events = events_since(db, channel, after)
    if events is None:
        return SpaceEventsOut(seq=seq, snapshot=space_out(db, space))
    return SpaceEventsOut(seq=seq, events=[e.message() for e in events])


def _parse_channel(channel: str) -> tuple[int, int | None] | None:
    parts = channel.split(":")
    try:
        if len(parts) == 2 and parts[0] == CHANNEL_PREFIX:
            return int(parts[1]), None
        if len(parts) == 3 and parts[0] == CHANNEL_PREFIX:
            return int(parts[1]), int(parts[2])
    except ValueError:
        return None
    return None


def _authorize_channel(db: Db, actor: Actor, channel: str) -> bool:
    parsed = _parse_channel(channel)
    if parsed is None:
        return False
    session_id, group_id = parsed
    try:
        session = session_for_actor(db, actor, session_id)
    except (NotFound, NotAllowed):
        return False
    space = find_space(db, session.id, group_id)
    if space is None:
        return actor.facilitator is not None or group_id is None
    return can_read(db, actor, space)


def _channel_snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    parsed = _parse_channel(channel)
    space = find_space(db, *parsed) if parsed else None
    if space is None:
        return {"items": [], "actions": [], "summary": None, "missing": True}
    return space_out(db, space).model_dump(mode="json")


register_channel(CHANNEL_PREFIX, authorize=_authorize_channel, snapshot=_channel_snapshot)
