"""The audit log: who viewed or exported personal data, who erased whom, kept without the data.

Entries hold ids and counts only (never names, emails or free text), so the log itself can be
kept after the people in it were erased. Facilitators' views of personal data (participant
lists and pages, the interest list, a stored email) and every export are logged; the
organisation's admin reads the log on the audit page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.core.db import Db, utcnow
from companion.privacy.models import AuditEntry

#: The zone the audit page's dates are read in (organisations have no zone of their own).
AUDIT_ZONE = "Europe/Helsinki"
#: Entries shown at most on one page (newest first).
PAGE_SIZE = 500

#: Names of the actions, for the audit page; other packages add theirs with `describe_action`.
ACTION_LABELS: dict[str, Any] = {
    "participants.view": _l("Viewed the participant list"),
    "participant.view": _l("Viewed a participant"),
    "participant.export": _l("Exported a participant's data"),
    "participant.download": _l("A participant downloaded their data"),
    "participant.remove": _l("Removed a participant"),
    "participant.erase": _l("A participant erased their data"),
    "participants.import": _l("Imported participants"),
    "consent.withdraw": _l("A participant withdrew a consent"),
    "interest.view": _l("Viewed the interest list"),
    "interest.invite": _l("Invited people from the interest list"),
    "outbox.view": _l("Viewed a stored email"),
    "programme.delete": _l("Deleted a programme"),
    "retention.erase": _l("Deleted a programme's personal data (retention)"),
}


def describe_action(action: str, label: Any) -> None:
    """Give an action of another package its name on the audit page."""
    ACTION_LABELS[action] = label


def action_label(action: str) -> str:
    """The action's name in the current language (its code if nobody named it)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def record_audit(
    db: Db,
    action: str,
    *,
    organisation_id: int | None,
    facilitator: Facilitator | None = None,
    **details: int | str | bool | None,
) -> AuditEntry:
    """Log an action on personal data; `details` are ids, counts and codes, never the data."""
    entry = AuditEntry(
        organisation_id=organisation_id,
        facilitator_id=facilitator.id if facilitator is not None else None,
        action=action,
        details=dict(details),
        at=utcnow(),
    )
    db.add(entry)
    db.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page narrows the log to (all optional)."""

    facilitator_id: int | None = None
    action: str = ""
    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(AUDIT_ZONE))


def audit_entries(db: Db, organisation_id: int, wanted: AuditFilter) -> list[AuditEntry]:
    """The organisation's entries matching the filter, newest first (at most PAGE_SIZE)."""
    query = select(AuditEntry).where(AuditEntry.organisation_id == organisation_id)
    if wanted.facilitator_id is not None:
        query = query.where(AuditEntry.facilitator_id == wanted.facilitator_id)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= _start_of(wanted.since))
    if wanted.until is not None:
        query = query.where(AuditEntry.at < _start_of(wanted.until + timedelta(days=1)))
    return list(
        db.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(PAGE_SIZE))
    )


def audit_actions(db: Db, organisation_id: int) -> list[str]:
    """The actions the organisation's log holds, and the known ones, sorted."""
    found = set(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.organisation_id == organisation_id)
            .distinct()
        )
    )
    return sorted(found | set(ACTION_LABELS))


def detail_items(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An entry's details as (key, value) text pairs for the page."""
    return [(str(key), "" if value is None else str(value)) for key, value in details.items()]
