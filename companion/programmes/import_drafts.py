"""Imports of participants from a spreadsheet: a draft kept for a day while the facilitator
maps the columns and looks at the preview, then the participants made in one go."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from companion.accounts.models import Facilitator
from companion.core.db import Db, utcnow
from companion.core.errors import Invalid, NotFound
from companion.core.jobs import periodic
from companion.needs.operations import set_needs, themes_of
from companion.needs.schemas import NeedsFields
from companion.privacy.models import AuditEntry
from companion.programmes.importing import (
    FIELDS,
    RowCheck,
    Table,
    UnreadableFile,
    check_rows,
    read_table,
)
from companion.programmes.models import ImportDraft, Participant, Programme
from companion.programmes.operations import (
    IMPORT_CONSENT_VERSION,
    add_participant,
    get_programme,
    possible_token,
)
from companion.programmes.schemas import ParticipantIn

#: Drafts older than this are deleted by the worker.
DRAFT_LIFETIME = timedelta(days=1)


def create_import_draft(
    db: Db, facilitator: Facilitator, programme: Programme, filename: str, data: bytes
) -> ImportDraft:
    """Read an uploaded file into a draft; Invalid with the reason if it cannot be read."""
    try:
        table = read_table(filename, data)
    except UnreadableFile as exc:
        raise Invalid(str(exc), errors={"file": str(exc)}) from None
    draft = ImportDraft(
        token=secrets.token_urlsafe(16),
        programme_id=programme.id,
        facilitator_id=facilitator.id,
        filename=filename[:255],
        table=table.as_dict(),
    )
    db.add(draft)
    db.flush()
    return draft


def get_import_draft(db: Db, facilitator: Facilitator, token: str) -> ImportDraft:
    """A draft of this facilitator that has not expired."""
    draft = (
        db.scalar(select(ImportDraft).where(ImportDraft.token == token))
        if possible_token(token)
        else None
    )
    if (
        draft is None
        or draft.facilitator_id != facilitator.id
        or draft.created_at < utcnow() - DRAFT_LIFETIME
    ):
        raise NotFound(_("This import has expired. Please upload the file again."))
    get_programme(db, facilitator, draft.programme_id)
    return draft


def preview_import(
    db: Db,
    programme: Programme,
    draft: ImportDraft,
    mapping: dict[str, int],
    default_group_id: int | None,
) -> list[RowCheck]:
    """Every row checked against the mapping, the programme's groups and existing emails."""
    table = Table.from_dict(draft.table)
    columns = range(len(table.headers))
    clean = {k: v for k, v in mapping.items() if k in FIELDS and v in columns}
    existing = set(
        db.scalars(
            select(func.lower(Participant.email)).where(Participant.programme_id == programme.id)
        )
    )
    groups = {g.name: g.id for g in programme.groups}
    if default_group_id is not None and default_group_id not in groups.values():
        default_group_id = None
    return check_rows(
        table,
        clean,
        groups=groups,
        existing_emails=existing,
        default_group_id=default_group_id,
        themes=themes_of(db, programme),
    )


def commit_import(
    db: Db,
    facilitator: Facilitator,
    programme: Programme,
    draft: ImportDraft,
    mapping: dict[str, int],
    default_group_id: int | None,
    *,
    consent_collected: bool,
) -> list[Participant]:
    """Import every row or none: any bad row raises Invalid and nothing is written."""
    checks = preview_import(db, programme, draft, mapping, default_group_id)
    bad = [c for c in checks if not c.ok]
    if bad:
        raise Invalid(
            ngettext(
                "%(num)s row needs fixing; nothing was imported.",
                "%(num)s rows need fixing; nothing was imported.",
                len(bad),
            ),
            errors={f"line {c.line}": "; ".join(c.errors.values()) for c in bad},
        )
    if "email" not in mapping or not ({"name", "first_name", "last_name"} & set(mapping)):
        raise Invalid(_("Choose the columns for the name and the email."))
    if not consent_collected:
        # Nobody's details are kept without their consent (the box says it was collected).
        message = _("Confirm that these people agreed before importing them.")
        raise Invalid(message, errors={"consent_collected": message})
    created: list[Participant] = []
    for check in checks:
        data = ParticipantIn.model_validate(
            {**check.values, "group_ids": [check.group_id] if check.group_id else []}
        )
        participant = add_participant(
            db, programme, data, source="import", consent=("import", IMPORT_CONSENT_VERSION)
        )
        if check.offers or check.needs:
            set_needs(db, participant, NeedsFields(offers=check.offers, needs=check.needs))
        created.append(participant)
    db.add(
        AuditEntry(
            organisation_id=facilitator.organisation_id,
            facilitator_id=facilitator.id,
            action="participants.import",
            details={"programme_id": programme.id, "count": len(created)},
        )
    )
    db.delete(draft)
    db.flush()
    return created


@periodic(3600)
def purge_import_drafts(db: Db) -> None:
    """Uploaded lists hold personal data: drop drafts nobody confirmed within a day."""
    for draft in db.scalars(
        select(ImportDraft).where(ImportDraft.created_at < utcnow() - DRAFT_LIFETIME)
    ):
        db.delete(draft)
