"""Who is in which breakout group: the seam between notes and the breakouts package (issue 3).

Notes are keyed by session and an optional breakout group id. Until `companion.breakouts`
exists nobody is known to be in any breakout group, so breakout notes are open to the session's
facilitators only (failing closed), while plenary notes work for everyone in the session.
"""

from __future__ import annotations

from companion.core.db import Db
from companion.sessions.models import Session


def group_members_of(db: Db, session: Session, breakout_group_id: int) -> set[int] | None:
    """Participant ids of a breakout group of `session`; None while membership is unknown.

    Filled from `companion.breakouts`: the members of a group whose round has been announced
    (locked, started or closed); an empty set for a draft's group or an unknown or foreign id,
    None only if the breakouts package is absent. Notes access, the digest ("their own
    group's notes only") and the side panel all call it and nothing else.
    """
    try:
        from companion.breakouts.operations import members_of_group
    except ImportError:
        return None
    return members_of_group(db, session, breakout_group_id)


def breakout_group_label(db: Db, session: Session, breakout_group_id: int) -> str | None:
    """The breakout group's display name ("Ryhmä 2"), or None when unknown.

    TODO(breakouts, issue 3): fill from BreakoutGroup's name; notes fall back to numbering.
    """
    return None
