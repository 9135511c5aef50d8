"""The participant import pages: upload a CSV or XLSX file, choose its header row and map its
columns, see what happens to every row, import the good ones and list the rest to fix."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import BaseModel, Field, create_model

from companion.accounts.identity import require_facilitator
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.core.schema_types import Checkbox, OptionalDbId, OptionalInt
from companion.core.validation import form
from companion.outcomes.sheets import Sheet, to_csv
from companion.programmes import import_drafts
from companion.programmes import operations as ops
from companion.programmes.blueprint import bp
from companion.programmes.import_columns import guess_mapping
from companion.programmes.import_drafts import ImportChoices
from companion.programmes.importing import FIELDS, MAX_COLUMNS, Table
from companion.programmes.models import ImportDraft, Programme


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


#: The preview's form: the header row, a column (0-based) per field, the default group, what
#: to do with people already in the programme, consent, the action.
ImportFormIn = create_model(
    "ImportFormIn",
    __doc__="The header row and column chosen for each field, the group for rows without one, "
    "what to do with existing participants, and consent.",
    **{f"map_{key}": (Annotated[OptionalInt, Field(ge=0, le=MAX_COLUMNS)], None) for key in FIELDS},  # type: ignore[call-overload]
    default_group=(OptionalDbId, None),
    header_line=(Annotated[OptionalInt, Field(ge=1, le=1_000_000)], None),
    mapped_header=(Annotated[OptionalInt, Field(ge=1, le=1_000_000)], None),
    existing=(Literal["skip", "update"], "skip"),
    consent_collected=(Checkbox, False),
    action=(Literal["", "preview", "import"], ""),
)


def _choices(table: Table, sent: BaseModel, programme: Programme) -> ImportChoices:
    """The facilitator's choices from the form, or the guesses when the page is first shown or
    another header row was chosen (its columns are others)."""
    header_line: int | None = getattr(sent, "header_line")  # noqa: B009
    table = table.with_header_line(header_line)
    choices = ImportChoices(
        header_line=table.header_line,
        existing=getattr(sent, "existing"),  # noqa: B009
        consent_collected=getattr(sent, "consent_collected"),  # noqa: B009
    )
    mapped_header: int | None = getattr(sent, "mapped_header")  # noqa: B009
    if request.method == "POST" and mapped_header in (None, table.header_line):
        for key in FIELDS:
            index = getattr(sent, f"map_{key}")
            if index is not None and index < len(table.headers):
                choices.mapping[key] = index
        choices.default_group_id = getattr(sent, "default_group")  # noqa: B009
    else:
        choices.mapping = guess_mapping(table.headers, table.rows)
        if request.method == "POST":
            choices.default_group_id = getattr(sent, "default_group")  # noqa: B009
        elif len(programme.groups) == 1:
            choices.default_group_id = programme.groups[0].id
    return choices


def _imported_message(result: import_drafts.ImportResult) -> str:
    parts = [
        ngettext(
            "%(num)s participant imported.", "%(num)s participants imported.", len(result.created)
        )
    ]
    if result.updated:
        parts.append(
            ngettext(
                "%(num)s participant updated.", "%(num)s participants updated.", result.updated
            )
        )
    if result.skipped:
        parts.append(
            ngettext(
                "%(num)s already in the programme, skipped.",
                "%(num)s already in the programme, skipped.",
                result.skipped,
            )
        )
    if result.erased:
        parts.append(
            ngettext(
                "%(num)s asked to be erased from the programme: not imported.",
                "%(num)s asked to be erased from the programme: not imported.",
                result.erased,
            )
        )
    return " ".join(parts)


@bp.route("/imports/<token>", methods=["GET", "POST"])
def import_preview(token: str) -> ResponseReturnValue:
    """Choose the header row and map columns to fields, see what happens to every row, and
    import the good ones; after an import with rows left out, the list of those to fix."""
    facilitator = require_facilitator()
    db = get_db()
    draft = import_drafts.get_import_draft(db, facilitator, token)
    programme = ops.get_programme(db, facilitator, draft.programme_id)
    if "done" in draft.table:
        return import_result(programme, draft)
    sent = form(ImportFormIn) if request.method == "POST" else ImportFormIn()
    choices = _choices(Table.from_dict(draft.table), sent, programme)
    table = import_drafts.draft_table(draft, choices)
    message = None
    status = 200
    if request.method == "POST" and getattr(sent, "action") == "import":  # noqa: B009
        try:
            result = import_drafts.commit_import(db, facilitator, programme, draft, choices)
            db.commit()
        except Invalid as exc:
            db.rollback()
            message = exc.detail
            status = 422
        else:
            flash(_imported_message(result))
            if result.left_out:
                return redirect(url_for("programmes.import_preview", token=token), code=303)
            return redirect(url_for("programmes.participants", programme_id=programme.id), code=303)
    checks = import_drafts.preview_import(db, programme, draft, choices)
    mapping = choices.mapping
    missing = [
        label
        for key, label in (("email", FIELDS["email"]), ("name", FIELDS["name"]))
        if key not in mapping and not (key == "name" and {"first_name", "last_name"} & set(mapping))
    ]
    counts = {key: sum(1 for c in checks if c.status == key) for key in STATUSES}
    # Someone "updated" with nothing to change is, in effect, skipped.
    unchanged = sum(1 for c in checks if c.status == "update" and not c.changes)
    counts["update"] -= unchanged
    counts["skip"] += unchanged
    return (
        render_template(
            "programmes/import_preview.html",
            programme=programme,
            draft=draft,
            table=table,
            examples=_examples(table),
            fields=FIELDS,
            choices=choices,
            mapping=mapping,
            checks=checks,
            counts=counts,
            importable=counts["new"] + counts["update"],
            missing=missing,
            message=message,
        ),
        status,
    )


#: The statuses in the order the preview counts them.
STATUSES = ("new", "update", "skip", "erased", "no_consent", "bad")


def import_result(programme: Programme, draft: ImportDraft) -> ResponseReturnValue:
    """What an import left out, to fix; as a page, or (`?download=csv`) as a CSV file."""
    done = draft.table["done"]
    if request.args.get("download") == "csv":
        sheet = Sheet(
            title=_("Rows not imported"),
            header=[_("Line"), _("Reason"), *done.get("headers", [])],
            rows=[[row["line"], row["reason"], *row["row"]] for row in done["left_out"]],
        )
        return Response(
            to_csv(sheet),
            mimetype="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="rows-not-imported.csv"',
                "Cache-Control": "no-store",
            },
        )
    return render_template(
        "programmes/import_result.html", programme=programme, draft=draft, done=done
    )
