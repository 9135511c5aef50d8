"""The participant import pages: upload a CSV or XLSX file, map its columns, check every row
and import all or nothing."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import BaseModel, Field, create_model

from companion.accounts.identity import require_facilitator
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.core.schema_types import Checkbox, OptionalDbId, OptionalInt
from companion.core.validation import form
from companion.programmes import import_drafts
from companion.programmes import operations as ops
from companion.programmes.blueprint import bp
from companion.programmes.import_columns import guess_mapping
from companion.programmes.importing import FIELDS, MAX_COLUMNS, Table


@bp.route("/programmes/<int:programme_id>/import", methods=["GET", "POST"])
def import_upload(programme_id: int) -> ResponseReturnValue:
    """Upload a CSV or XLSX list of participants."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors["file"] = _("Choose a file to upload.")
        else:
            try:
                draft = import_drafts.create_import_draft(
                    db, facilitator, programme, upload.filename, upload.read()
                )
                db.commit()
            except Invalid as exc:
                db.rollback()
                errors = exc.errors
            else:
                return redirect(url_for("programmes.import_preview", token=draft.token), code=303)
    status = 422 if errors else 200
    return render_template(
        "programmes/import_upload.html", programme=programme, errors=errors
    ), status


def _examples(table: Table) -> list[str]:
    """The first value of each column, shown beside its header when choosing columns."""
    examples = []
    for index in range(len(table.headers)):
        value = next((row[index] for row in table.rows if row[index]), "")
        value = " ".join(value.split())
        examples.append(value[:30] + "…" if len(value) > 30 else value)
    return examples


#: The preview's form: a column (0-based) per field, the default group, consent, the action.
ImportFormIn = create_model(
    "ImportFormIn",
    __doc__="The column chosen for each field, the group for rows without one, and consent.",
    **{f"map_{key}": (Annotated[OptionalInt, Field(ge=0, le=MAX_COLUMNS)], None) for key in FIELDS},  # type: ignore[call-overload]
    default_group=(OptionalDbId, None),
    consent_collected=(Checkbox, False),
    action=(Literal["", "preview", "import"], ""),
)


def _mapping_from_form(table: Table, sent: BaseModel) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for key in FIELDS:
        index = getattr(sent, f"map_{key}")
        if index is not None and index < len(table.headers):
            mapping[key] = index
    return mapping


@bp.route("/imports/<token>", methods=["GET", "POST"])
def import_preview(token: str) -> ResponseReturnValue:
    """Map columns to fields and see every row checked; import all or nothing."""
    facilitator = require_facilitator()
    db = get_db()
    draft = import_drafts.get_import_draft(db, facilitator, token)
    programme = ops.get_programme(db, facilitator, draft.programme_id)
    table = Table.from_dict(draft.table)
    sent = form(ImportFormIn) if request.method == "POST" else ImportFormIn()
    if request.method == "POST":
        mapping = _mapping_from_form(table, sent)
        default_group_id: int | None = getattr(sent, "default_group")  # noqa: B009
    else:
        mapping = guess_mapping(table.headers, table.rows)
        default_group_id = programme.groups[0].id if len(programme.groups) == 1 else None
    consent: bool = getattr(sent, "consent_collected")  # noqa: B009
    message = None
    status = 200
    if request.method == "POST" and getattr(sent, "action") == "import":  # noqa: B009
        try:
            created = import_drafts.commit_import(
                db,
                facilitator,
                programme,
                draft,
                mapping,
                default_group_id,
                consent_collected=consent,
            )
            db.commit()
        except Invalid as exc:
            db.rollback()
            message = exc.detail
            status = 422
        else:
            flash(
                ngettext(
                    "%(num)s participant imported.", "%(num)s participants imported.", len(created)
                )
            )
            return redirect(url_for("programmes.participants", programme_id=programme.id), code=303)
    checks = import_drafts.preview_import(db, programme, draft, mapping, default_group_id)
    missing = [
        label
        for key, label in (("email", FIELDS["email"]), ("name", FIELDS["name"]))
        if key not in mapping and not (key == "name" and {"first_name", "last_name"} & set(mapping))
    ]
    return (
        render_template(
            "programmes/import_preview.html",
            programme=programme,
            draft=draft,
            table=table,
            examples=_examples(table),
            fields=FIELDS,
            mapping=mapping,
            default_group_id=default_group_id,
            checks=checks,
            bad=[c for c in checks if not c.ok],
            missing=missing,
            consent=consent,
            message=message,
        ),
        status,
    )
