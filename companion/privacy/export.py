"""A person's own data, gathered from every package: the JSON download and the readable page.

Each package exports its share (`registry.register_personal_data(export_participant=...)`) as
sections of plain records; this module puts them together. Only the person's own data is in
it: what others wrote is not, and other people appear at most by the name the person already
sees on their own pages (their contacts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from companion.core.db import Db, utcnow
from companion.privacy.registry import Section, contributions
from companion.programmes.models import Participant

#: Version of the download's layout, so a reader can tell what it holds.
EXPORT_FORMAT = 1


@dataclass(frozen=True)
class PersonalExport:
    """Everything held about one participant, by section."""

    participant_id: int
    programme_name: str
    organisation_name: str
    timezone: str
    exported_at: datetime
    sections: list[Section]


def export_participant(db: Db, participant: Participant) -> PersonalExport:
    """Gather every package's share of the person's data, in registration order."""
    sections: list[Section] = []
    for entry in contributions():
        if entry.export_participant is not None:
            sections += entry.export_participant(db, participant.id)
    programme = participant.programme
    return PersonalExport(
        participant_id=participant.id,
        programme_name=programme.name,
        organisation_name=programme.organisation.name,
        timezone=programme.timezone,
        exported_at=utcnow(),
        sections=sections,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def export_document(export: PersonalExport) -> dict[str, Any]:
    """The download as a JSON-able dict: who holds it, when, and each section's records."""
    return {
        "format": EXPORT_FORMAT,
        "exported_at": export.exported_at.isoformat(),
        "controller": export.organisation_name,
        "programme": export.programme_name,
        **{section.key: _plain(section.records) for section in export.sections},
    }


def export_json(export: PersonalExport) -> str:
    """The download's text (UTF-8 JSON, indented so a person can read it too)."""
    return json.dumps(export_document(export), ensure_ascii=False, indent=2)
