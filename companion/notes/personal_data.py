"""The notes package's share of personal data (see `companion.privacy.registry`): the notes a
person wrote and their action items.

Erasure keeps the notes they wrote in a group's shared notes (the group's record of the
discussion), shown as by a former participant; their own action items go.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from companion.core.db import Db
from companion.notes.models import ActionItem, NoteItem, NoteSpace, SummaryRevision
from companion.privacy.registry import Section, register_personal_data
from companion.sessions.models import Session


def export_notes(db: Db, participant_id: int) -> list[Section]:
    """Notes they wrote, summary versions they saved and their action items."""
    items = db.execute(
        select(NoteItem, Session.title)
        .join(NoteSpace, NoteSpace.id == NoteItem.space_id)
        .join(Session, Session.id == NoteSpace.session_id)
        .where(NoteItem.author_participant_id == participant_id)
        .order_by(NoteItem.created_at, NoteItem.id)
    )
    revisions = db.execute(
        select(SummaryRevision, Session.title)
        .join(NoteSpace, NoteSpace.id == SummaryRevision.space_id)
        .join(Session, Session.id == NoteSpace.session_id)
        .where(SummaryRevision.author_participant_id == participant_id)
        .order_by(SummaryRevision.created_at, SummaryRevision.id)
    )
    actions = db.execute(
        select(ActionItem, Session.title)
        .join(Session, Session.id == ActionItem.session_id)
        .where(ActionItem.owner_id == participant_id)
        .order_by(ActionItem.created_at, ActionItem.id)
    )
    return [
        Section(
            key="notes",
            title=_("Notes you wrote"),
            records=[
                {"session": title, "text": item.body, "written_at": item.created_at}
                for item, title in items
            ],
            labels={"session": _("Session"), "text": _("Text"), "written_at": _("Written")},
        ),
        Section(
            key="summaries",
            title=_("Summaries you saved"),
            records=[
                {"session": title, "text": revision.text, "saved_at": revision.created_at}
                for revision, title in revisions
            ],
            labels={"session": _("Session"), "text": _("Text"), "saved_at": _("Saved")},
        ),
        Section(
            key="action_items",
            title=_("Your action items"),
            records=[
                {
                    "session": title,
                    "text": action.text,
                    "due_on": action.due_on,
                    "done": action.done,
                    "created_at": action.created_at,
                }
                for action, title in actions
            ],
            labels={
                "session": _("Session"),
                "text": _("Text"),
                "due_on": _("Due"),
                "done": _("Done"),
                "created_at": _("Written"),
            },
        ),
    ]


def erase_notes(db: Db, participant_id: int) -> None:
    """Their own action items go; what they wrote in shared notes stays, unsigned."""
    db.execute(delete(ActionItem).where(ActionItem.owner_id == participant_id))


register_personal_data(
    "notes",
    tables=("note_item", "note_summary_revision", "action_item"),
    export_participant=export_notes,
    erase_participant=erase_notes,
)
