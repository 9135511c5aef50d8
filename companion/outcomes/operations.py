"""Who may see a programme's outcomes, and the audit log of what facilitators saw and took.

The outcomes page and the exports hold personal data (names, attendance, who met whom), so
every view and every export leaves an `AuditEntry` (the privacy package's log): the action,
the programme, and counts, never the data itself. Operations never commit.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from companion.accounts.models import Facilitator
from companion.accounts.roles import Capability
from companion.core.db import Db
from companion.privacy import audit
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
#: Exports that list people's contact details: refused to roles without CONTACT_DETAILS.
CONTACT_EXPORTS = frozenset({"participants"})
# Their names on the organisation's audit page.
audit.describe_action(VIEW_ACTION, _l("Viewed a programme's outcomes"))
audit.describe_action("export.participants", _l("Exported the participants"))
audit.describe_action("export.attendance", _l("Exported the attendance"))
audit.describe_action("export.contacts", _l("Exported the contact counts"))
audit.describe_action("export.feedback", _l("Exported the session ratings"))
audit.describe_action("export.survey", _l("Exported the survey answers"))
audit.describe_action("export.funder", _l("Exported the funder report"))
audit.describe_action("survey.send", _l("Sent the end-of-programme survey"))


def outcomes_programme(
    db: Db, facilitator: Facilitator, programme_id: int, *, capability: Capability | None = None
) -> Programme:
    """The programme if the facilitator facilitates it (NotFound for other organisations')
    and their role allows `capability`, if given."""
    return get_programme(db, facilitator, programme_id, capability=capability)


def record_audit(
    db: Db, facilitator: Facilitator, action: str, programme: Programme, **counts: Any
) -> AuditEntry:
    """Log that the facilitator saw or took a programme's personal data (in the privacy
    package's audit log, which the organisation's admin reads): ids and counts only."""
    for key, value in counts.items():
        if not isinstance(value, int | str) or (isinstance(value, str) and len(value) > 20):
            raise ValueError(f"audit details are ids, counts and short codes, not {key}={value!r}")
    return audit.record_audit(
        db,
        action,
        organisation_id=programme.organisation_id,
        facilitator=facilitator,
        programme_id=programme.id,
        **counts,
    )
