"""The participant import pages: upload a CSV or XLSX file, map its columns, check every row
and import all or nothing."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from companion.accounts.identity import require_facilitator
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.programmes import operations as ops
from companion.programmes.blueprint import bp
from companion.programmes.importing import FIELDS, Table, guess_mapping


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
                draft = ops.create_import_draft(
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


def _form_int(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 10 else None


def _mapping_from_form(table: Table) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for key in FIELDS:
        index = _form_int(f"map_{key}")
        if index is not None and index < len(table.headers):
            mapping[key] = index
    return mapping


@bp.route("/imports/<token>", methods=["GET", "POST"])
def import_preview(token: str) -> ResponseReturnValue:
    """Map columns to fields and see every row checked; import all or nothing."""
    facilitator = require_facilitator()
    db = get_db()
    draft = ops.get_import_draft(db, facilitator, token)
    programme = ops.get_programme(db, facilitator, draft.programme_id)
    table = Table.from_dict(draft.table)
    if request.method == "POST":
        mapping = _mapping_from_form(table)
        default_group_id = _form_int("default_group")
    else:
        mapping = guess_mapping(table.headers, table.rows)
        default_group_id = programme.groups[0].id if len(programme.groups) == 1 else None
    consent = request.form.get("consent_collected") == "on"
    message = None
    status = 200
    if request.method == "POST" and request.form.get("action") == "import":
        try:
            created = ops.commit_import(
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
    checks = ops.preview_import(db, programme, draft, mapping, default_group_id)
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
