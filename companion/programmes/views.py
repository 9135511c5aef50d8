"""Pages and JSON API for programmes, groups, participants, import, intake and interest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from companion.accounts.identity import require_facilitator
from companion.accounts.operations import visible_programmes
from companion.config import Config
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.errors import Invalid
from companion.core.i18n import common_timezones
from companion.core.security import limiter, rate_limited
from companion.core.validation import submit_form
from companion.meetings.platform import (
    platform_label,
    platform_missing_settings,
    platform_names,
)
from companion.privacy.models import Consent
from companion.programmes import operations as ops
from companion.programmes.importing import FIELDS, Table, guess_mapping
from companion.programmes.models import Group, Participant, Programme
from companion.programmes.schemas import (
    GroupIn,
    GroupOut,
    GroupPatch,
    IntakeIn,
    InterestIn,
    ParticipantIn,
    ParticipantOut,
    ParticipantPatch,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
)
from companion.sessions.operations import upcoming_sessions

bp = Blueprint("programmes", __name__, template_folder="templates")
api = Blueprint("programmes_api", __name__, url_prefix="/api/v1")


#: Field labels for the summary above a form, so that it says which field each error is about.
FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "company": _l("Company"),
    "industry": _l("Industry"),
    "region": _l("Region"),
    "years_as_entrepreneur": _l("Years as entrepreneur"),
    "interests": _l("Interests"),
    "goals": _l("Goals"),
    "language": _l("Language"),
    "group_ids": _l("Groups"),
    "consent": _l("Consent"),
    "message": _l("Message"),
    "description": _l("Description"),
    "timezone": _l("Time zone"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "platform": _l("Meeting platform"),
    "file": _l("File"),
}


def _summary(errors: dict[str, str]) -> dict[str, str]:
    """Errors for `errors_summary`, each prefixed with its field's label."""
    return {
        key: f"{FIELD_LABELS[key]}: {message}" if key in FIELD_LABELS else message
        for key, message in errors.items()
    }


def _platform_options() -> tuple[list[tuple[str, str]], list[tuple[str, list[str]]]]:
    """The platforms ready to use, and the others with the settings each still lacks."""
    config: Config = current_app.extensions["companion.config"]
    ready, unready = [], []
    for name in platform_names():
        missing = platform_missing_settings(name, config)
        if missing:
            unready.append((platform_label(name), missing))
        else:
            ready.append((name, platform_label(name)))
    return ready, unready


def _programme_form_context() -> dict[str, Any]:
    ready, unready = _platform_options()
    return {
        "timezones": [(name, name.replace("_", " ")) for name in common_timezones()],
        "platforms": ready,
        "unready_platforms": unready,
        "languages": [("fi", "suomi"), ("en", "English")],
    }


# --- programmes -------------------------------------------------------------------------


@bp.route("/programmes")
def index() -> str:
    """The facilitator's programmes."""
    facilitator = require_facilitator()
    programmes = visible_programmes(get_db(), facilitator)
    return render_template("programmes/index.html", programmes=programmes)


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme() -> ResponseReturnValue:
    """Create a programme."""
    facilitator = require_facilitator()

    def create(data: ProgrammeIn) -> ResponseReturnValue:
        programme = ops.create_programme(get_db(), facilitator, data)
        flash(_("Programme created. Next, add its groups."))
        return redirect(url_for("programmes.show", programme_id=programme.id), code=303)

    values, errors, response = submit_form(
        ProgrammeIn, create, defaults={"timezone": "Europe/Helsinki", "language": "fi"}
    )
    if response is not None:
        return response
    return render_template(
        "programmes/programme_form.html",
        values=values,
        errors=errors,
        summary=_summary(errors),
        programme=None,
        **_programme_form_context(),
    ), (422 if errors else 200)


@bp.route("/programmes/<int:programme_id>")
def show(programme_id: int) -> str:
    """A programme's overview: groups, next sessions, participants."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)
    return render_template(
        "programmes/show.html",
        programme=programme,
        upcoming=upcoming_sessions(programme)[:6],
        group_values={},
        group_errors={},
        group_summary={},
    )


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
def edit_programme(programme_id: int) -> ResponseReturnValue:
    """Change a programme's name, language, time zone or dates."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)

    def update(data: ProgrammeIn) -> ResponseReturnValue:
        ops.update_programme(db, programme, data)
        flash(_("Changes saved."))
        return redirect(url_for("programmes.show", programme_id=programme.id), code=303)

    defaults = {
        "name": programme.name,
        "description": programme.description,
        "language": programme.language,
        "timezone": programme.timezone,
        "starts_on": programme.starts_on.isoformat() if programme.starts_on else "",
        "ends_on": programme.ends_on.isoformat() if programme.ends_on else "",
        "platform": programme.platform,
    }
    values, errors, response = submit_form(ProgrammeIn, update, defaults=defaults)
    if response is not None:
        return response
    return render_template(
        "programmes/programme_form.html",
        values=values,
        errors=errors,
        summary=_summary(errors),
        programme=programme,
        **_programme_form_context(),
    ), (422 if errors else 200)


# --- groups -----------------------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/groups", methods=["POST"])
def new_group(programme_id: int) -> ResponseReturnValue:
    """Add a group to the programme (form on the overview)."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.get_programme(db, facilitator, programme_id)

    def create(data: GroupIn) -> ResponseReturnValue:
        group = ops.create_group(db, programme, data)
        flash(_("Group “%(name)s” added.", name=group.name))
        return redirect(url_for("programmes.show", programme_id=programme.id), code=303)

    values, errors, response = submit_form(GroupIn, create)
    if response is not None:
        return response
    return (
        render_template(
            "programmes/show.html",
            programme=programme,
            upcoming=upcoming_sessions(programme)[:6],
            group_values=values,
            group_errors=errors,
            group_summary=_summary(errors),
        ),
        422,
    )


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int) -> ResponseReturnValue:
    """A group: members, intake survey link and answers; rename or close the survey."""
    facilitator = require_facilitator()
    db = get_db()
    group = ops.get_group(db, facilitator, group_id)

    def update(data: GroupIn) -> ResponseReturnValue:
        # An unticked checkbox sends nothing, which the schema reads as its default (open).
        data = data.model_copy(update={"intake_open": "intake_open" in request.form})
        ops.update_group(db, group, data)
        flash(_("Changes saved."))
        return redirect(url_for("programmes.group", group_id=group.id), code=303)

    values, errors, response = submit_form(
        GroupIn, update, defaults={"name": group.name, "intake_open": group.intake_open}
    )
    if response is not None:
        return response
    members = sorted((m.participant for m in group.memberships), key=lambda p: p.name.lower())
    return render_template(
        "programmes/group.html",
        group=group,
        members=members,
        values=values,
        errors=errors,
        summary=_summary(errors),
    ), (422 if errors else 200)


# --- participants -----------------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/participants")
def participants(programme_id: int) -> str:
    """Everyone in the programme, with their groups and intake answers."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    query = (request.args.get("q") or "").strip().lower()
    people = programme.participants
    if query:
        people = [
            p
            for p in people
            if query in p.name.lower()
            or query in p.email.lower()
            or query in p.company.lower()
            or query in p.industry.lower()
        ]
    return render_template(
        "programmes/participants.html", programme=programme, people=people, query=query
    )


def _consents(participant: Participant | None) -> list[Consent]:
    if participant is None:
        return []
    query = select(Consent).where(Consent.participant_id == participant.id)
    return list(get_db().scalars(query.order_by(Consent.given_at)))


def _participant_form(programme: Programme, participant: Participant | None) -> ResponseReturnValue:
    db = get_db()

    def save(data: ParticipantIn) -> ResponseReturnValue:
        if participant is None:
            ops.add_participant(db, programme, data)
            flash(_("Participant added."))
        else:
            ops.update_participant(db, participant, data)
            flash(_("Changes saved."))
        return redirect(url_for("programmes.participants", programme_id=programme.id), code=303)

    defaults: dict[str, Any] = {"group_ids": [g.id for g in programme.groups[:1]]}
    if participant is not None:
        defaults = {
            key: getattr(participant, key)
            for key in ParticipantIn.model_fields
            if key not in ("group_ids",)
        }
        defaults["group_ids"] = [m.group_id for m in participant.memberships]
    values, errors, response = submit_form(
        ParticipantIn, save, lists=("group_ids",), defaults=defaults
    )
    if response is not None:
        return response
    return render_template(
        "programmes/participant_form.html",
        programme=programme,
        participant=participant,
        values=values,
        errors=errors,
        summary=_summary(errors),
        consents=_consents(participant),
        selected_groups={
            int(g)
            for g in values.get("group_ids", [])
            if str(g).isascii() and str(g).isdecimal() and len(str(g)) < 10
        },
    ), (422 if errors else 200)


@bp.route("/programmes/<int:programme_id>/participants/new", methods=["GET", "POST"])
def new_participant(programme_id: int) -> ResponseReturnValue:
    """Add one participant by hand."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    return _participant_form(programme, None)


@bp.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
def edit_participant(participant_id: int) -> ResponseReturnValue:
    """Change a participant's details or groups."""
    facilitator = require_facilitator()
    participant = ops.get_participant(get_db(), facilitator, participant_id)
    return _participant_form(participant.programme, participant)


@bp.route("/participants/<int:participant_id>/remove", methods=["POST"])
def remove_participant(participant_id: int) -> ResponseReturnValue:
    """Remove a participant and their data from the programme."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.get_participant(db, facilitator, participant_id)
    if request.form.get("confirm") != "yes":
        # Removal erases the person's data for good, so the form asks for a tick first.
        flash(_("Tick the box to confirm the removal."), "error")
        return redirect(url_for("programmes.edit_participant", participant_id=participant.id), 303)
    programme_id = participant.programme_id
    ops.remove_participant(db, facilitator, participant)
    db.commit()
    flash(_("The participant and their data were removed."))
    return redirect(url_for("programmes.participants", programme_id=programme_id), code=303)


# --- import -----------------------------------------------------------------------------


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


# --- intake survey and interest form (public) -------------------------------------------


@bp.route("/intake/<token>", methods=["GET", "POST"])
@rate_limited
@limiter.limit("20 per hour", methods=["POST"])
def intake(token: str) -> ResponseReturnValue:
    """A group's public intake survey."""
    db = get_db()
    group = ops.group_by_intake_token(db, token)
    if not group.intake_open:
        # The page itself says the survey is closed; a late answer gets the same page.
        status = 403 if request.method == "POST" else 200
        return render_template(
            "programmes/intake.html", group=group, values={}, errors={}, summary={}
        ), status

    def submit(data: IntakeIn) -> ResponseReturnValue:
        ops.submit_intake(db, group, data)
        # Thank by the name typed: a known email must not reveal the stored name.
        return render_template("programmes/intake_done.html", group=group, name=data.name)

    values, errors, response = submit_form(
        IntakeIn, submit, defaults={"language": group.programme.language}
    )
    if response is not None:
        return response
    return render_template(
        "programmes/intake.html",
        group=group,
        values=values,
        errors=errors,
        summary=_summary(errors),
    ), (422 if errors else 200)


@bp.route("/interest/<token>", methods=["GET", "POST"])
@rate_limited
@limiter.limit("20 per hour", methods=["POST"])
def interest(token: str) -> ResponseReturnValue:
    """An organisation's public form for people who want to join a later round."""
    db = get_db()
    organisation = ops.organisation_by_interest_token(db, token)

    def submit(data: InterestIn) -> ResponseReturnValue:
        ops.submit_interest(db, organisation, data)
        return render_template("programmes/interest_done.html", organisation=organisation)

    values, errors, response = submit_form(InterestIn, submit)
    if response is not None:
        return response
    return render_template(
        "programmes/interest.html",
        organisation=organisation,
        values=values,
        errors=errors,
        summary=_summary(errors),
    ), (422 if errors else 200)


@bp.route("/interest")
def interest_list() -> str:
    """Interest-form answers for the facilitator's organisation."""
    facilitator = require_facilitator()
    db = get_db()
    return render_template(
        "programmes/interest_list.html",
        organisation=facilitator.organisation,
        submissions=ops.interest_submissions(db, facilitator),
    )


# --- JSON API ---------------------------------------------------------------------------


def _group_out(group: Group) -> GroupOut:
    return GroupOut(
        id=group.id,
        programme_id=group.programme_id,
        name=group.name,
        intake_open=group.intake_open,
        member_count=len(group.memberships),
    )


def _participant_out(participant: Participant) -> ParticipantOut:
    return ParticipantOut.model_validate(
        {
            **{k: getattr(participant, k) for k in ParticipantOut.model_fields if k != "group_ids"},
            "group_ids": [m.group_id for m in participant.memberships],
        }
    )


@api.get("/programmes")
@api_view(summary="List programmes", response=list[ProgrammeOut], tags=("programmes",))
def api_programmes() -> list[ProgrammeOut]:
    """The programmes the caller facilitates."""
    facilitator = require_facilitator()
    return [ProgrammeOut.model_validate(p) for p in visible_programmes(get_db(), facilitator)]


@api.post("/programmes")
@api_view(
    summary="Create a programme",
    body=ProgrammeIn,
    response=ProgrammeOut,
    status=201,
    tags=("programmes",),
)
def api_create_programme(body: ProgrammeIn) -> ProgrammeOut:
    """A new programme facilitated by the caller."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.create_programme(db, facilitator, body)
    db.commit()
    return ProgrammeOut.model_validate(programme)


@api.get("/programmes/<int:programme_id>")
@api_view(summary="Get a programme", response=ProgrammeOut, tags=("programmes",))
def api_programme(programme_id: int) -> ProgrammeOut:
    """One programme."""
    facilitator = require_facilitator()
    return ProgrammeOut.model_validate(ops.get_programme(get_db(), facilitator, programme_id))


@api.patch("/programmes/<int:programme_id>")
@api_view(
    summary="Change a programme", body=ProgrammePatch, response=ProgrammeOut, tags=("programmes",)
)
def api_update_programme(programme_id: int, body: ProgrammePatch) -> ProgrammeOut:
    """Change the given fields."""
    facilitator = require_facilitator()
    db = get_db()
    programme = ops.update_programme(db, ops.get_programme(db, facilitator, programme_id), body)
    db.commit()
    return ProgrammeOut.model_validate(programme)


@api.get("/programmes/<int:programme_id>/groups")
@api_view(summary="List groups", response=list[GroupOut], tags=("groups",))
def api_groups(programme_id: int) -> list[GroupOut]:
    """The programme's groups."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    return [_group_out(g) for g in programme.groups]


@api.post("/programmes/<int:programme_id>/groups")
@api_view(summary="Create a group", body=GroupIn, response=GroupOut, status=201, tags=("groups",))
def api_create_group(programme_id: int, body: GroupIn) -> GroupOut:
    """A new group in the programme."""
    facilitator = require_facilitator()
    db = get_db()
    group = ops.create_group(db, ops.get_programme(db, facilitator, programme_id), body)
    db.commit()
    return _group_out(group)


@api.get("/groups/<int:group_id>")
@api_view(summary="Get a group", response=GroupOut, tags=("groups",))
def api_group(group_id: int) -> GroupOut:
    """One group."""
    facilitator = require_facilitator()
    return _group_out(ops.get_group(get_db(), facilitator, group_id))


@api.patch("/groups/<int:group_id>")
@api_view(summary="Change a group", body=GroupPatch, response=GroupOut, tags=("groups",))
def api_update_group(group_id: int, body: GroupPatch) -> GroupOut:
    """Rename a group or open/close its intake survey."""
    facilitator = require_facilitator()
    db = get_db()
    group = ops.update_group(db, ops.get_group(db, facilitator, group_id), body)
    db.commit()
    return _group_out(group)


@api.get("/programmes/<int:programme_id>/participants")
@api_view(summary="List participants", response=list[ParticipantOut], tags=("participants",))
def api_participants(programme_id: int) -> list[ParticipantOut]:
    """The programme's participants."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    return [_participant_out(p) for p in programme.participants]


@api.post("/programmes/<int:programme_id>/participants")
@api_view(
    summary="Add a participant",
    body=ParticipantIn,
    response=ParticipantOut,
    status=201,
    tags=("participants",),
)
def api_create_participant(programme_id: int, body: ParticipantIn) -> ParticipantOut:
    """A new participant; the email must be new to the programme."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.add_participant(db, ops.get_programme(db, facilitator, programme_id), body)
    db.commit()
    return _participant_out(participant)


@api.get("/participants/<int:participant_id>")
@api_view(summary="Get a participant", response=ParticipantOut, tags=("participants",))
def api_participant(participant_id: int) -> ParticipantOut:
    """One participant."""
    facilitator = require_facilitator()
    return _participant_out(ops.get_participant(get_db(), facilitator, participant_id))


@api.patch("/participants/<int:participant_id>")
@api_view(
    summary="Change a participant",
    body=ParticipantPatch,
    response=ParticipantOut,
    tags=("participants",),
)
def api_update_participant(participant_id: int, body: ParticipantPatch) -> ParticipantOut:
    """Change the given fields (and groups, if given)."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.update_participant(
        db, ops.get_participant(db, facilitator, participant_id), body
    )
    db.commit()
    return _participant_out(participant)


@api.delete("/participants/<int:participant_id>")
@api_view(summary="Remove a participant", tags=("participants",))
def api_remove_participant(participant_id: int) -> None:
    """Remove the participant and their data."""
    facilitator = require_facilitator()
    db = get_db()
    ops.remove_participant(db, facilitator, ops.get_participant(db, facilitator, participant_id))
    db.commit()
