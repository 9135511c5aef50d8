"""The breakouts package's share of personal data (see `companion.privacy.registry`): the small
groups a person sat in, and rules that named them.

Erasure keeps their seats (held by the anonymous stand-in), so who-met-whom counts, the
optimiser's history and breakout presence stay; the keep-apart/together rules about them go.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select

from companion.breakouts.models import BreakoutGroup, BreakoutMember, BreakoutRound, BreakoutRule
from companion.core.db import Db
from companion.privacy.registry import Section, register_personal_data
from companion.sessions.models import Session


def export_breakouts(db: Db, participant_id: int) -> list[Section]:
    """The small groups they were placed in, round by round."""
    seats = db.execute(
        select(Session.title, Session.starts_at, BreakoutRound.number, BreakoutGroup.name)
        .join(BreakoutRound, BreakoutRound.session_id == Session.id)
        .join(BreakoutMember, BreakoutMember.round_id == BreakoutRound.id)
        .join(BreakoutGroup, BreakoutGroup.id == BreakoutMember.group_id)
        .where(BreakoutMember.participant_id == participant_id)
        .order_by(Session.starts_at, BreakoutRound.number)
    )
    return [
        Section(
            key="breakout_groups",
            title=_("Small groups"),
            records=[
                {"session": title, "starts_at": starts_at, "round": number, "group": name}
                for title, starts_at, number, name in seats
            ],
            labels={
                "session": _("Session"),
                "starts_at": _("Starts"),
                "round": _("Round"),
                "group": _("Group"),
            },
        )
    ]


def erase_breakouts(db: Db, participant_id: int) -> None:
    """Rules naming them go; their seats stay, anonymous."""
    db.execute(
        delete(BreakoutRule).where(
            or_(BreakoutRule.first_id == participant_id, BreakoutRule.second_id == participant_id)
        )
    )


register_personal_data(
    "breakouts",
    tables=("breakout_member", "breakout_rule"),
    export_participant=export_breakouts,
    erase_participant=erase_breakouts,
)
