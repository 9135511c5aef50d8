"""The summary of a space: revisions saved with compare-and-set, a conflict with both texts
and a suggested merge when two people save at once, and its history."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from companion.accounts.identity import Actor
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotAllowed
from companion.notes.access import can_write
from companion.notes.models import NoteSpace, SummaryRevision
from companion.notes.payloads import author_columns, author_out, publish, summary_out
from companion.notes.schemas import RevisionOut, SummaryIn


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
    author = author_columns(actor)
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
    publish(db, space, "summary.saved", summary_out(space).model_dump(mode="json"))
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
