"""The experts package's share of personal data (see `companion.privacy.registry`): an invited
expert's name, email, bio and answers. Experts are no participants, so nothing is exported per
participant; when a programme's personal data goes (retention, deletion), its experts go."""

from __future__ import annotations

from sqlalchemy import delete, select

from companion.core.db import Db
from companion.experts.models import Expert
from companion.privacy.registry import register_personal_data
from companion.programmes.models import Group
from companion.sessions.models import AgendaItem, Session


def erase_programme_experts(db: Db, programme_id: int) -> None:
    """Delete the experts invited to the programme's sessions (the talk slots stay)."""
    items = (
        select(AgendaItem.id)
        .join(Session, Session.id == AgendaItem.session_id)
        .join(Group, Group.id == Session.group_id)
        .where(Group.programme_id == programme_id)
    )
    db.execute(
        delete(Expert)
        .where(Expert.agenda_item_id.in_(items))
        .execution_options(synchronize_session=False)
    )


register_personal_data("experts", tables=("expert",), erase_programme=erase_programme_experts)
