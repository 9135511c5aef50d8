"""Who may see a programme's outcomes, and the audit log of what facilitators saw and took.

The outcomes page and the exports hold personal data (names, attendance, who met whom), so
every view and every export leaves an `AuditEntry` (the privacy package's log): the action,
the programme, and counts, never the data itself. Operations never commit.
"""

from __future__ import annotations

from typing import Any

from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.privacy.models import AuditEntry
from companion.programmes.models import Programme
from companion.programmes.operations import get_programme

#: The audit log's action names used here.
VIEW_ACTION = "outcomes.view"
EXPORT_ACTIONS = {
    "participants": "export.participants",
    "attendance": "export.attendance",
    "contacts": "export.contacts",
    "feedback": "export.feedback",
    "survey": "export.survey",
    "funder": "export.funder",
}


def outcomes_programme(db: Db, facilitator: Facilitator, programme_id: int) -> Programme:
    """The programme if the facilitator facilitates it (NotFound for other organisations')."""
    return get_programme(db, facilitator, programme_id)


def record_audit(
    db: Db, facilitator: Facilitator, action: str, programme: Programme, **counts: Any
) -> AuditEntry:
    """Log that the facilitator saw or took a programme's personal data: ids and counts only."""
    details: dict[str, Any] = {"programme_id": programme.id}
    for key, value in counts.items():
        if not isinstance(value, int | str) or (isinstance(value, str) and len(value) > 20):
            raise ValueError(f"audit details are ids, counts and short codes, not {key}={value!r}")
        details[key] = value
    entry = AuditEntry(
        organisation_id=programme.organisation_id,
        facilitator_id=facilitator.id,
        action=action,
        details=details,
    )
    db.add(entry)
    db.flush()
    return entry
