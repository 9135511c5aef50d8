"""Imports of participants from a spreadsheet: a draft kept for a day while the facilitator
maps the columns and looks at the preview, then the participants made in one go."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.accounts.roles import Capability
from companion.core.db import Db, utcnow
from companion.core.errors import Invalid, NotFound
from companion.core.jobs import periodic
from companion.needs.operations import needs_of, set_needs, themes_of
from companion.needs.schemas import NeedsFields
from companion.privacy.erased import email_digest, erased_digests
from companion.privacy.models import AuditEntry
from companion.programmes.import_rows import (
    UPDATABLE,
    Existing,
    ExistingMode,
    RowCheck,
    check_rows,
)
from companion.programmes.importing import FIELDS, Table, UnreadableFile, read_table
from companion.programmes.models import ImportDraft, Participant, Programme
from companion.programmes.operations import (
    IMPORT_CONSENT_VERSION,
    add_participant,
    get_programme,
    possible_token,
    update_participant,
)
from companion.programmes.schemas import ParticipantIn, ParticipantPatch

#: Drafts older than this are deleted by the worker.
DRAFT_LIFETIME = timedelta(days=1)
#: Version of the consent recorded when each row's own answer in a consent column said yes.
IMPORT_FORM_CONSENT_VERSION = "form-answer"


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
    # The draft is the uploaded list of people with their addresses: not for an observer
    # (say, an owner since made one).
    get_programme(db, facilitator, draft.programme_id, capability=Capability.CONTACT_DETAILS)
    return draft


@dataclass
class ImportChoices:
    """What the facilitator chose in the preview."""

    mapping: dict[str, int] = field(default_factory=dict)
    default_group_id: int | None = None
    #: The spreadsheet line of the header row (None: as found in the file).
    header_line: int | None = None
    existing: ExistingMode = "skip"
    consent_collected: bool = False


@dataclass
class ImportResult:
    """What an import did: who was added and updated, and the rows left out with why."""

    created: list[Participant]
    updated: int
    skipped: int
    left_out: list[RowCheck]
    #: Rows of people who asked to be erased from the programme: not imported, not kept.
    erased: int = 0


def draft_table(draft: ImportDraft, choices: ImportChoices) -> Table:
    """The draft's file read with the chosen header row."""
    return Table.from_dict(draft.table).with_header_line(choices.header_line)


def _existing(db: Db, programme: Programme) -> dict[str, Existing]:
    found: dict[str, Existing] = {}
    for participant in db.scalars(
        select(Participant).where(Participant.programme_id == programme.id)
    ):
        entry = needs_of(participant)
        found[participant.email.strip().lower()] = Existing(
            id=participant.id,
            values={key: getattr(participant, key) for key in UPDATABLE},
            group_ids={m.group_id for m in participant.memberships},
            offers=list(entry.offers) if entry else [],
            needs=list(entry.needs) if entry else [],
        )
    return found


def preview_import(
    db: Db, programme: Programme, draft: ImportDraft, choices: ImportChoices
) -> list[RowCheck]:
    """Every row checked against the choices, the programme's groups and its participants."""
    table = draft_table(draft, choices)
    columns = range(len(table.headers))
    clean = {k: v for k, v in choices.mapping.items() if k in FIELDS and v in columns}
    groups = {g.name: g.id for g in programme.groups}
    default_group_id = choices.default_group_id
    if default_group_id is not None and default_group_id not in groups.values():
        default_group_id = None
    erased = erased_digests(db, programme.id)
    return check_rows(
        table.rows,
        table.row_lines,
        clean,
        groups=groups,
        existing=_existing(db, programme),
        default_group_id=default_group_id,
        themes=themes_of(db, programme),
        existing_mode=choices.existing,
        was_erased=(lambda email: email_digest(email) in erased) if erased else None,
    )


def _update(db: Db, participant: Participant, check: RowCheck) -> None:
    changes = dict(check.changes)
    group_id = changes.pop("group", None)
    offers, needs = changes.pop("offers", None), changes.pop("needs", None)
    update_participant(
        db,
        participant,
        ParticipantPatch.model_validate(
            {**changes, **({"group_ids": [group_id]} if group_id else {})}
        ),
    )
    if offers is not None or needs is not None:
        entry = needs_of(participant)
        fields = NeedsFields(
            offers=offers if offers is not None else (entry.offers if entry else []),
            needs=needs if needs is not None else (entry.needs if entry else []),
            offer_text=entry.offer_text if entry else "",
            need_text=entry.need_text if entry else "",
        )
        set_needs(db, participant, fields, by_person=False)


def commit_import(
    db: Db,
    facilitator: Facilitator,
    programme: Programme,
    draft: ImportDraft,
    choices: ImportChoices,
) -> ImportResult:
    """Import the rows that can be: new people are added, those already in the programme are
    skipped or updated as chosen; rows of people who asked to be erased are only counted;
    rows to fix and rows without consent are left out (and kept
    in the draft for the list to fix)."""
    mapping = choices.mapping
    if "email" not in mapping or not ({"name", "first_name", "last_name"} & set(mapping)):
        raise Invalid(_("Choose the columns for the name and the email."))
    per_row_consent = "consent" in mapping
    if not per_row_consent and not choices.consent_collected:
        # Nobody's details are kept without their consent (the box says it was collected).
        message = _("Confirm that these people agreed before importing them.")
        raise Invalid(message, errors={"consent_collected": message})
    checks = preview_import(db, programme, draft, choices)
    if not any(c.status == "new" or (c.status == "update" and c.changes) for c in checks):
        raise Invalid(_("No row of the file is to be imported or updated."))
    consent = (
        ("import", IMPORT_FORM_CONSENT_VERSION)
        if per_row_consent
        else ("import", IMPORT_CONSENT_VERSION)
    )
    result = ImportResult(created=[], updated=0, skipped=0, left_out=[])
    for check in checks:
        if check.status == "new":
            data = ParticipantIn.model_validate(
                {**check.values, "group_ids": [check.group_id] if check.group_id else []}
            )
            participant = add_participant(db, programme, data, source="import", consent=consent)
            if check.offers or check.needs:
                set_needs(db, participant, NeedsFields(offers=check.offers, needs=check.needs))
            result.created.append(participant)
        elif check.status == "update" and check.changes:
            existing = db.get(Participant, check.existing_id)
            if existing is not None:
                _update(db, existing, check)
                result.updated += 1
        elif check.status in ("skip", "update"):
            result.skipped += 1
        elif check.status == "erased":
            result.erased += 1
        else:
            result.left_out.append(check)
    db.add(
        AuditEntry(
            organisation_id=programme.organisation_id,
            facilitator_id=facilitator.id,
            action="participants.import",
            details={
                "programme_id": programme.id,
                "count": len(result.created),
                "updated": result.updated,
                "left_out": len(result.left_out),
                # Only when someone was kept out for it (the count alone, never who).
                **({"erased": result.erased} if result.erased else {}),
            },
        )
    )
    if result.left_out:
        # Only the rows to fix stay (a day at most), for the list and its download.
        table = draft_table(draft, choices)
        draft.table = {
            "done": {
                "created": len(result.created),
                "updated": result.updated,
                "skipped": result.skipped,
                "erased": result.erased,
                "headers": table.headers,
                "left_out": [
                    {
                        "line": c.line,
                        "reason": c.reason,
                        "name": c.values.get("name", ""),
                        "email": c.values.get("email", ""),
                        "row": c.raw,
                    }
                    for c in result.left_out
                ],
            }
        }
    else:
        db.delete(draft)
    db.flush()
    return result


@periodic(3600)
def purge_import_drafts(db: Db) -> None:
    """Uploaded lists hold personal data: drop drafts nobody confirmed within a day."""
    for draft in db.scalars(
        select(ImportDraft).where(ImportDraft.created_at < utcnow() - DRAFT_LIFETIME)
    ):
        db.delete(draft)
