"""Who is in which breakout group: the seam between notes and the breakouts package.

Notes are keyed by session and an optional breakout group id; these functions are the only
places notes ask the breakouts package anything.
"""

from __future__ import annotations

from companion.core.db import Db
from companion.sessions.models import Session


def group_members_of(db: Db, session: Session, breakout_group_id: int) -> set[int]:
    """Participant ids of a breakout group of `session`.

    The members of a group whose round has been announced (locked, started or closed); an empty
    set for a draft's group or an unknown or foreign id. Notes access, the digest ("their own
    group's notes only") and the side panel all call it and nothing else.
    """
    from companion.breakouts.participant_groups import members_of_group

    return members_of_group(db, session, breakout_group_id)


def own_breakout_groups(db: Db, session: Session, participant_id: int) -> list[int]:
    """Ids of the participant's breakout groups in the session's announced rounds, in round
    order (so the notes page can offer them before anyone has written there)."""
    from companion.breakouts.participant_groups import announced_groups_of

    return announced_groups_of(db, session, participant_id)


def running_breakout_group(db: Db, session: Session, participant_id: int) -> int | None:
    """Id of the participant's breakout group in the session's running round, if any."""
    from companion.breakouts.participant_groups import running_group_of

    return running_group_of(db, session, participant_id)


def breakout_group_label(db: Db, session: Session, breakout_group_id: int) -> str | None:
    """The breakout group's display name, or None for an id that is not the session's."""
    from companion.breakouts.participant_groups import group_name_of

    return group_name_of(db, session, breakout_group_id)


def breakouts_channel(session_id: int) -> str:
    """The live channel of the session's breakout rounds (the notes pages show the
    facilitator's messages to every group from it)."""
    from companion.breakouts.channel import channel_for

    return channel_for(session_id)
