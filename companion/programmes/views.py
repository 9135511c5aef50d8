"""Pages for programmes, groups and participants.

The import pages are in `import_views`, the public intake and interest forms in `public_views`;
all hang on the one `programmes` blueprint of `blueprint.py`, and importing this module brings
them along (the app registers the blueprint from here).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.access import contacts_shown, may
from companion.accounts.identity import require_facilitator
from companion.accounts.operations import is_shared_with, visible_programmes
from companion.accounts.roles import Capability
from companion.config import Config
from companion.core.db import get_db
from companion.core.i18n import common_timezones
from companion.core.validation import form, query, submit_form
from companion.meetings.platform import (
    platform_label,
    platform_missing_settings,
    platform_names,
)
from companion.privacy.audit import record_audit
from companion.privacy.export import export_json, export_participant
from companion.privacy.models import Consent
from companion.privacy.retention import retention_notice
from companion.programmes import (  # noqa: F401  (their pages)
    import_views,
    public_views,
    round_views,
    team_views,
)
from companion.programmes import operations as ops
from companion.programmes import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.programmes.blueprint import bp, error_summary
from companion.programmes.models import Participant, Programme
from companion.programmes.platform_choice import require_ready_platform
from companion.programmes.schemas import (
    GroupIn,
    IntakeToggle,
    ParticipantIn,
    ProgrammeIn,
    RemovalConfirm,
    SearchQuery,
)
from companion.sessions.operations import upcoming_sessions


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
    db = get_db()
    return render_template(
        "programmes/index.html",
        programmes=visible_programmes(db, facilitator, archived=False),
        archived=visible_programmes(db, facilitator, archived=True),
        my_organisation=facilitator.organisation_id,
    )


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme() -> ResponseReturnValue:
    """Create a programme."""
    facilitator = require_facilitator()

    def create(data: ProgrammeIn) -> ResponseReturnValue:
        require_ready_platform(current_app.extensions["companion.config"], data.platform)
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
        summary=error_summary(errors),
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
        retention=retention_notice(db, current_app.extensions["companion.config"], programme),
        may_run=may(facilitator, programme, Capability.RUN),
        shared_by=programme.organisation.name if is_shared_with(facilitator, programme) else "",
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
        summary=error_summary(errors),
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
            group_summary=error_summary(errors),
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
        data = data.model_copy(update={"intake_open": form(IntakeToggle).intake_open})
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
        summary=error_summary(errors),
    ), (422 if errors else 200)


# --- participants -----------------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/participants")
def participants(programme_id: int) -> str:
    """Everyone in the programme, with their groups and intake answers."""
    facilitator = require_facilitator()
    programme = ops.get_programme(get_db(), facilitator, programme_id)
    search = query(SearchQuery).q.lower()
    people = programme.participants
    if search:
        people = [
            p
            for p in people
            if search in p.name.lower()
            or (search in p.email.lower() and contacts_shown())
            or search in p.company.lower()
            or search in p.industry.lower()
        ]
    db = get_db()
    record_audit(
        db,
        "participants.view",
        organisation_id=programme.organisation_id,
        facilitator=facilitator,
        programme_id=programme.id,
        count=len(people),
    )
    db.commit()
    return render_template(
        "programmes/participants.html", programme=programme, people=people, query=search
    )


def _consents(participant: Participant | None) -> list[Consent]:
    if participant is None:
        return []
    statement = select(Consent).where(Consent.participant_id == participant.id)
    return list(get_db().scalars(statement.order_by(Consent.given_at)))


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
        if not contacts_shown():
            # Never into the page, not even in a hidden field.
            defaults.pop("email")
            defaults.pop("phone")
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
        summary=error_summary(errors),
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
    db = get_db()
    participant = ops.get_participant(db, facilitator, participant_id)
    if request.method == "GET":
        record_audit(
            db,
            "participant.view",
            organisation_id=participant.programme.organisation_id,
            facilitator=facilitator,
            programme_id=participant.programme_id,
            participant_id=participant.id,
        )
        db.commit()
    return _participant_form(participant.programme, participant)


@bp.route("/participants/<int:participant_id>/data.json")
def participant_data(participant_id: int) -> ResponseReturnValue:
    """Everything held about a participant, for answering their request by other means."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.get_participant(
        db, facilitator, participant_id, capability=Capability.CONTACT_DETAILS
    )
    document = export_json(export_participant(db, participant))
    record_audit(
        db,
        "participant.export",
        organisation_id=participant.programme.organisation_id,
        facilitator=facilitator,
        programme_id=participant.programme_id,
        participant_id=participant.id,
    )
    db.commit()
    return Response(
        document,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="participant-{participant.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/participants/<int:participant_id>/remove", methods=["POST"])
def remove_participant(participant_id: int) -> ResponseReturnValue:
    """Remove a participant and their data from the programme."""
    facilitator = require_facilitator()
    db = get_db()
    participant = ops.get_participant(db, facilitator, participant_id)
    if not form(RemovalConfirm).confirm:
        # Removal erases the person's data for good, so the form asks for a tick first.
        flash(_("Tick the box to confirm the removal."), "error")
        return redirect(url_for("programmes.edit_participant", participant_id=participant.id), 303)
    programme_id = participant.programme_id
    ops.remove_participant(db, facilitator, participant)
    db.commit()
    flash(_("The participant and their data were removed."))
    return redirect(url_for("programmes.participants", programme_id=programme_id), code=303)
